"""lessons/glossary.md: every term the course relies on, one anchored, short, cited entry.

The formulas the glossary states are checked against the app's numbers in
tests/core/test_lesson_foundations.py (ICC, design effect, effective sample size),
tests/core/test_shrinkage.py (reliability, empirical Bayes estimate) and
tests/core/test_report.py (the two standard errors of a fixed effect).
"""

from __future__ import annotations

import re

from hlmlab.lesson_text import load_lesson
from hlmlab.paths import LESSONS_DIR

TEXT = (LESSONS_DIR / "glossary.md").read_text(encoding="utf-8")
GLOSSARY = load_lesson("glossary")
REQUIRED = (
    "levels", "micro-macro", "primary-secondary-units", "icc", "shrinkage", "blup", "reml", "ml",
    "boundary-fit", "contextual-effect", "cross-level-interaction", "design-effect",
    "random-intercept", "random-slope", "variance-component", "fixed-effect",
    "grand-mean-centring", "group-mean-centring", "empirical-bayes", "reliability",
    "level-1-residual", "level-2-residual", "deviance", "fixed-effect-se",
)
CITATIONS = ("Snijders & Bosker", "Raudenbush & Bryk", "Kish", "Akaike")


def entries():
    return {key: s for key, s in GLOSSARY.items() if key != "intro"}


def test_every_required_term_has_an_anchored_entry():
    missing = [key for key in REQUIRED if key not in entries()]
    assert not missing
    anchors = re.findall(r"^## .+\{#([a-z0-9-]+)\}\s*$", TEXT, flags=re.MULTILINE)
    assert len(anchors) == len(set(anchors)) == len(entries())


def test_entries_are_short_definitions():
    for key, entry in entries().items():
        words = len(entry.body.split())
        assert 15 <= words <= 120, (key, words)
        assert not entry.is_question


def test_an_entry_that_gives_a_formula_cites_its_source():
    for key, entry in entries().items():
        formulas = re.findall(r"\$([^$]+)\$", entry.body)
        if any("=" in f or r"\frac" in f for f in formulas):
            assert any(c in entry.body for c in CITATIONS), key


def test_links_between_entries_point_at_anchors():
    for target in re.findall(r"\]\(#([a-z0-9-]+)\)", TEXT):
        assert target in entries(), target

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


# --------------------------------------------------------------------------- lessons link it

from hlmlab.glossary_terms import (  # noqa: E402
    TERMS,
    first_mentions,
    glossary_links,
    link_first_mentions,
    unlinked,
)

#: Every lesson the app teaches (lessons/*.md but the glossary, the home page and the map).
LESSONS = sorted(p.stem for p in LESSONS_DIR.glob("*.md")
                 if p.stem not in ("glossary", "home", "course_map"))
#: The terms each lesson is about: it must link them (whatever else it mentions, it links
#: at its first mention, tested below).
KEY_TERMS = {
    "foundations": {"multilevel-model", "levels", "micro-macro", "primary-secondary-units",
                    "icc", "design-effect", "serial-correlation", "measurement-error",
                    "random-effect", "fixed-effect", "reliability", "glmm", "boundary-fit"},
    "why_multilevel": {"icc", "design-effect", "effective-sample-size"},
    "nels88_two_schools": {"pooling", "shrinkage", "reliability", "random-intercept",
                           "random-slope", "within-between"},
    "jsp_schools": {"random-intercept", "blup", "levels"},
    "longitudinal": {"random-intercept", "random-effect", "serial-correlation", "boundary-fit",
                     "within-between"},
    "macro_micro": {"contextual-effect", "cross-level-interaction", "grand-mean-centring",
                    "group-mean-centring", "measurement-error"},
    "your_data": {"multilevel-model", "random-intercept", "random-slope", "reliability", "icc"},
}


def test_terms_name_glossary_entries():
    assert set(TERMS) <= set(entries())


def test_every_glossary_link_of_every_lesson_resolves_to_an_entry():
    for lesson in LESSONS + ["glossary", "home"]:
        text = (LESSONS_DIR / f"{lesson}.md").read_text(encoding="utf-8")
        for anchor in glossary_links(text):
            assert anchor in entries(), (lesson, anchor)


def test_every_lesson_links_its_key_terms():
    assert set(LESSONS) <= set(KEY_TERMS), "a new lesson names its key terms here"
    for lesson, terms in KEY_TERMS.items():
        path = LESSONS_DIR / f"{lesson}.md"
        if not path.exists():
            continue
        linked = set(glossary_links(path.read_text(encoding="utf-8")))
        assert terms <= linked, (lesson, sorted(terms - linked))


def test_every_lesson_links_the_first_mention_of_each_glossary_term():
    """Its first mention in the prose (outside headings, code, LaTeX and questions) is a
    link to the entry, or part of a longer linked term. To fix a lesson:
    ``python -m hlmlab.glossary_terms lessons/<lesson>.md``."""
    for lesson in LESSONS:
        text = (LESSONS_DIR / f"{lesson}.md").read_text(encoding="utf-8")
        loose = {key: text[m.start:m.end] for key, m in first_mentions(text).items()
                 if not m.linked and not m.inside}
        assert not loose, (lesson, loose)


def test_linking_finds_the_first_prose_mention_and_nothing_else():
    text = ("Intro on the `ICC` and $ICC$.\n\n## The ICC {#icc-heading}\n\n"
            "The ICC and the design effect; again the ICC.\n\n"
            "## Predict {#question-x}\n\nThe ICC? - ( ) a :: b\n")
    linked = link_first_mentions(text)
    assert linked.count("](/glossary#icc)") == 1
    assert "The [ICC](/glossary#icc) and the [design effect](/glossary#design-effect); again the ICC" in linked
    assert unlinked(linked) == text
    assert first_mentions(linked)["icc"].linked
    assert link_first_mentions(linked) == linked

"""Unit tests of hlmlab.stats, report, lessons and plots."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

import pytest

from hlmlab import datasets, plots, report, stats
from hlmlab.lessons import LESSONS_DIR, load_lesson
from hlmlab.models import compare_pooling, fit_multilevel


def test_icc_and_design_effect_formulas():
    assert stats.icc(1.0, 4.0) == pytest.approx(0.2)
    assert stats.design_effect(0.2, 20) == pytest.approx(1 + 19 * 0.2)
    assert stats.effective_sample_size(400, 0.2, 20) == pytest.approx(400 / 4.8)
    assert np.isnan(stats.icc(0.0, 0.0))


def test_shrinkage_weights_are_reliabilities_of_each_schools_own_estimate():
    """lambda = tau / (tau + sampling variance of the school's own OLS estimate)."""
    data = datasets.load_nels88_replica()
    variance = {"tau00": 20.0, "tau11": 5.0, "tau01": -3.0, "sigma2": 60.0}
    slope = stats.shrinkage_weights(data, "homework", "schid", variance, random_slope=True)
    intercept_only = stats.shrinkage_weights(data, "homework", "schid", variance, random_slope=False)
    n = data.groupby("schid").size()
    np.testing.assert_allclose(intercept_only["lambda_intercept"], 20 / (20 + 60 / n))
    for school, part in data.groupby("schid"):
        X = np.column_stack([np.ones(len(part)), part["homework"]])
        sampling = 60.0 * np.diag(np.linalg.inv(X.T @ X))
        assert slope.loc[school, "lambda_intercept"] == pytest.approx(20 / (20 + sampling[0]))
        assert slope.loc[school, "lambda_slope"] == pytest.approx(5 / (5 + sampling[1]))
    assert slope[["lambda_intercept", "lambda_slope"]].stack().between(0, 1).all()


def test_model_latex_carries_the_estimates():
    data = datasets.load_nels88_replica()
    fit = fit_multilevel(data, "math", "homework", "schid", random_slope=True)
    tex = report.model_latex(fit)
    assert f"{fit.fixed['Intercept']:.2f}" in tex and f"{fit.variance['tau11']:.2f}" in tex
    assert r"\text{homework}_{ij}" in tex and "pmatrix" in tex
    assert report._tex_name("a_b%c") == r"\text{a\_b\%c}"


def test_group_table_lines_up_ols_multilevel_and_lambda():
    data = datasets.load_nels88_replica()
    comparison = compare_pooling(data, "math", "homework", "schid", random_slope=False)
    table = report.group_table(comparison.per_group, comparison.multilevel, comparison.shrinkage)
    assert list(table.index) == sorted(data["schid"].unique())
    assert table["lambda (intercept)"].between(0, 1).all()
    # Multilevel intercepts lie between each school's own line and the overall one.
    own = table["OLS intercept"] + table["OLS slope"] * 0  # at homework = 0
    fixed = comparison.multilevel.fixed["Intercept"]
    ml = table["multilevel intercept"]
    assert ((ml - fixed).abs() <= (own - fixed).abs() + 1e-9).mean() > 0.5


def test_every_lesson_file_parses_and_questions_have_answers():
    for path in LESSONS_DIR.glob("*.md"):
        sections = load_lesson(path.stem)
        assert sections, path
        for section in sections.values():
            if section.is_question:
                assert section.body and section.answer, f"{path.name}: {section.key}"


def test_lesson_maths_is_written_the_way_streamlit_renders_it():
    """Streamlit's markdown printed these as raw LaTeX in red: an inline $...$ broken over two
    lines, and a $$ block whose $$ shared a line with a formula that went on."""
    import re

    for path in LESSONS_DIR.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        for line_number, line in enumerate(text.splitlines(), 1):
            where = f"{path.name}:{line_number}"
            if line.count("$$") == 1:
                assert line.strip() == "$$", f"{where}: a $$ that opens or closes a block stands alone"
            assert line.replace("$$", "").count("$") % 2 == 0, f"{where}: inline $...$ over two lines"
        assert not re.search(r"\$\$[^$\n]+\n[^$]*\$\$", text), path.name


def test_lesson_sections_split_on_headings_with_ids(tmp_path):
    (tmp_path / "demo.md").write_text(
        "Intro text.\n\n## First {#one}\nBody one.\n\n## Guess {#question-a}\nWhy?\n---\nBecause.\n"
    )
    sections = load_lesson("demo", tmp_path)
    assert list(sections) == ["intro", "one", "question-a"]
    assert sections["one"].title == "First" and sections["one"].body == "Body one."
    assert sections["question-a"].body == "Why?" and sections["question-a"].answer == "Because."


def test_group_styles_are_stable_and_distinct():
    styles = plots.group_styles(list(range(10)))
    assert len({s["colour"] for s in styles.values()}) == 10
    assert plots.group_styles(list(range(10)))[3] == styles[3]


def test_lines_figure_draws_each_group_and_line_with_true_values_on_hover():
    data = datasets.load_nels88_replica()
    two = data[data["schid"].isin([24725, 62821])]
    comparison = compare_pooling(two, "math", "homework", "schid")
    fig = plots.lines_figure(two, "math", "homework", "schid", comparison.lines,
                             plots.group_styles([24725, 62821]), jitter=0.3)
    markers = [t for t in fig.data if t.mode == "markers"]
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.meta for t in markers] == ["24725", "62821"]
    assert len(lines) == 1 + 2 + 2
    for trace in markers:
        true_x = np.asarray(trace.customdata)[:, 2].astype(float)
        assert np.all(np.abs(np.asarray(trace.x) - true_x) <= 0.3)
    assert plots.jitter_offsets(5, 1).tolist() == plots.jitter_offsets(5, 1).tolist()


def test_ready_for_browser_drops_the_template_and_sets_one_revision():
    import json

    import plotly.io as pio

    from hlmlab import plots

    first = plots.ready_for_browser(go.Figure(data=[{"type": "scatter", "x": [1], "y": [2]}],
                                              layout=plots.LIGHT_LAYOUT))
    second = plots.ready_for_browser(go.Figure(data=[{"type": "scatter", "x": [1], "y": [3]}],
                                               layout=plots.LIGHT_LAYOUT))
    layout = json.loads(pio.to_json(first, validate=False))["layout"]
    assert "template" not in layout  # a template object makes plotly.js redraw a copy in full
    assert layout["plot_bgcolor"] == "white"  # the light look itself stays
    assert first.layout.datarevision != second.layout.datarevision
    revision = first.layout.datarevision
    assert plots.ready_for_browser(first).layout.datarevision == revision  # idempotent


def test_ready_for_browser_keeps_the_data_label_as_a_subtitle():
    from hlmlab import plots

    fig = plots.ready_for_browser(go.Figure(layout={
        **plots.LIGHT_LAYOUT, "title": {"text": "Three kinds of lines · JSP (synthetic replica)"}}))
    assert fig.layout.title.text == "Three kinds of lines"
    assert fig.layout.title.subtitle.text == "JSP (synthetic replica)"
    assert (fig.layout.title.x, fig.layout.title.xanchor) == (0.0, "left")


def test_ready_for_browser_moves_a_legend_below_the_plot_to_the_bottom_edge():
    from hlmlab import plots

    below = plots.ready_for_browser(go.Figure(layout={"legend": {"orientation": "h", "y": -0.3}}))
    assert (below.layout.legend.yref, below.layout.legend.y, below.layout.legend.yanchor) == (
        "container", 0, "bottom")
    beside = plots.ready_for_browser(go.Figure(layout={"legend": {"y": 0.5}}))
    assert beside.layout.legend.yref is None and beside.layout.legend.y == 0.5

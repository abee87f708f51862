"""ui.chart: the publishing of plotly.js for the chart element, and prepared figures."""

from __future__ import annotations

import json
from pathlib import Path

import plotly
import plotly.graph_objects as go

from ui import chart


def test_plotly_js_is_published_for_the_chart_element_or_not_at_all(tmp_path, monkeypatch):
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    monkeypatch.setattr(chart, "_STATIC_DIR", tmp_path / "static")
    chart._plotly_script_url.clear()
    try:
        url = chart._plotly_script_url()
        assert url == f"app/static/plotly-{plotly.__version__}.min.js"  # relative: base paths
        published = tmp_path / "static" / url.rsplit("/", 1)[1]
        assert published.read_bytes() == shipped.read_bytes()
        # Nowhere to write it (a read-only install): None, and show_chart falls back to
        # st.plotly_chart instead of drawing nothing.
        blocked = tmp_path / "not-a-directory"
        blocked.write_text("a file where the folder should be")
        monkeypatch.setattr(chart, "_STATIC_DIR", blocked)
        chart._plotly_script_url.clear()
        assert chart._plotly_script_url() is None
    finally:
        chart._plotly_script_url.clear()


def test_the_static_folder_is_the_one_streamlit_serves():
    """.streamlit/config.toml serves <repo>/static at app/static/."""
    repo = Path(__file__).resolve().parents[2]
    assert chart._STATIC_DIR == repo / "static"
    assert "enableStaticServing = true" in (repo / ".streamlit" / "config.toml").read_text()


def test_prepare_chart_serialises_a_shared_figure_once():
    figure = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]), {"title": {"text": "Lines · a data set"}})
    assert chart.prepare_chart(figure) is figure
    sent = figure._hlm_json
    spec = json.loads(sent)
    assert spec["layout"]["datarevision"] == figure.layout.datarevision  # ready_for_browser
    assert spec["layout"]["title"]["subtitle"]["text"] == "a data set"
    assert chart.prepare_chart(figure)._hlm_json is sent  # a rerun sends it, it does not rebuild it

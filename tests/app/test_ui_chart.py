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
    prepared = chart.prepare_chart(figure)
    spec = json.loads(prepared.json)
    assert spec["layout"]["datarevision"] == prepared.revision == figure.layout.datarevision
    assert spec["layout"]["title"]["subtitle"]["text"] == "a data set"
    assert chart.prepare_chart(figure) is prepared  # a rerun sends it, it does not rebuild it
    assert chart.prepare_chart(prepared) is prepared  # a panel's result is final already


def test_show_chart_sends_the_prepared_json_as_bytes_without_encoding_it_again():
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go

        from hlmlab.style import browser_figure
        from ui.chart import show_chart

        show_chart(browser_figure(go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))), key="c")

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    proto = next(e.proto for e in at.get("bidi_component") if e.proto.component_name
                 == "hlmlab_plotly_chart")
    assert proto.WhichOneof("data") == "bytes"  # a str would be JSON-encoded twice a run
    payload = json.loads(proto.bytes)
    assert payload["script"].endswith(".min.js") and payload["figure"]["data"][0]["y"]


def test_the_default_server_runs_without_the_source_watcher():
    """A new tab's first run no longer waits for Streamlit's scan of sys.modules (see the
    comment in .streamlit/config.toml); developers turn it on from the command line."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    server = tomllib.loads((repo / ".streamlit" / "config.toml").read_text())["server"]
    assert server["fileWatcherType"] == "none" and server["runOnSave"] is False

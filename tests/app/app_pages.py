"""Helpers of the app tests: where the app's pages are (read from app.py's PAGES list without
importing Streamlit), their views, the charts a page draws, and lme4's reference values."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
# Written by tests/reference/lme4_reference.R (lme4; see tests/reference/make_reference.sh).
REFERENCE_DIR = REPO / "tests" / "reference"


def page_paths() -> list[str]:
    """The ``pages/....py`` paths of every ``st.Page(...)`` in app.py, in order."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    paths = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "Page"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            paths.append(node.args[0].value)
    return paths


def lesson_views(page_path: str) -> tuple[str, list[str]] | None:
    """``(key, labels)`` of a page's ``show_views([View("label", ...), ...], key=...)`` call,
    or None. Only the open view of such a page runs, so tests open each one in turn."""
    tree = ast.parse((REPO / page_path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_views":
            key = next(k.value.value for k in node.keywords if k.arg == "key")
            labels = [view.args[0].value for view in node.args[0].elts]
            return key, labels
    return None


def open_view(at, page_path: str, label: str):
    """Open one view (tab) of a page, as a click on its tab does; returns ``at`` after a run."""
    key, labels = lesson_views(page_path)
    assert label in labels, (label, labels)
    at.session_state[key] = label
    # The tabs are bound to the URL, as a click updates it: after a page switch the URL's
    # value (the tab open when the student left) would otherwise win over the state.
    at.query_params[key] = label
    return at.run()


CHART_ELEMENT = "hlmlab_plotly_chart"  # ui/chart.py's chart element


def chart_specs(at) -> list[dict]:
    """Every plotly chart on the page, as the plotly JSON the browser draws, in page order:
    HLM Lab's chart element (ui.chart.show_chart) and any st.plotly_chart."""
    import json

    specs = []
    for element in list(at.get("bidi_component")) + list(at.get("plotly_chart")):
        proto = element.proto
        if hasattr(proto, "spec"):
            specs.append(json.loads(proto.spec))
        elif proto.component_name == CHART_ELEMENT:
            # ui.chart sends bytes of {"script": ..., "figure": {...}}
            payload = json.loads(proto.bytes.decode("utf-8"))
            if "figure" in payload:  # not app.py's preload of plotly.js
                specs.append(payload["figure"])
    return specs


def chart_traces(at, index: int = 0) -> list[dict]:
    """The traces of the page's ``index``-th plotly chart, arrays decoded to numpy."""
    import base64
    import json

    import numpy as np

    def decode(value):
        if isinstance(value, dict) and "bdata" in value:
            data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            if "shape" in value:
                shape = value["shape"]
                if isinstance(shape, str):  # plotly writes 2-D shapes as "rows, cols"
                    shape = tuple(int(part) for part in shape.split(","))
                return data.reshape(shape)
            return data
        if isinstance(value, list):
            return np.asarray(value)
        return value

    spec = chart_specs(at)[index]
    return [{k: decode(v) for k, v in trace.items()} for trace in spec["data"]], spec["layout"]


def chart_title(layout: dict) -> str:
    """A chart's whole title as a student reads it: its text and subtitle (charts drawn by
    show_chart carry the data's label as the subtitle)."""
    title = layout.get("title", {})
    return " · ".join(part for part in (title.get("text", ""),
                                        title.get("subtitle", {}).get("text", "")) if part)


def shown_tables(at) -> list:
    """Every table on the page as a pandas frame, whatever draws it, in page order within
    each kind: ``st.dataframe`` elements (their frames as given) and HTML tables of
    ``ui.tables.show_table`` (read back from the HTML: the index from the row headings, the
    columns from the column headings, a cell that reads as a number as a float, the empty
    mark as NaN, other text as it is shown)."""
    tables = [frame.value for frame in at.dataframe]
    for element in at.get("html"):
        body = element.proto.body
        if 'class="hlm-table"' in body:
            tables.append(_html_table(body))
    return tables


def _html_table(body: str):
    """The frame of one ``hlmlab.tables.display_table`` HTML table."""
    from html.parser import HTMLParser

    import numpy as np
    import pandas as pd

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.head, self.rows, self.cell, self.in_head = [], [], None, False

        def handle_starttag(self, tag, attrs):
            if tag == "thead":
                self.in_head = True
            elif tag == "tr" and not self.in_head:
                self.rows.append([])
            elif tag in ("th", "td"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "thead":
                self.in_head = False
            elif tag in ("th", "td") and self.cell is not None:
                (self.head if self.in_head else self.rows[-1]).append(self.cell)
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    def value(text: str):
        if text == "—":
            return np.nan
        try:
            return float(text.replace(",", "").replace("−", "-"))
        except ValueError:
            return text

    parser = Cells()
    parser.feed(body)
    frame = pd.DataFrame([[value(cell) for cell in row[1:]] for row in parser.rows],
                         columns=parser.head[1:],
                         index=pd.Index([row[0] for row in parser.rows], name=parser.head[0]))
    return frame


@cache
def _lme4_values():
    import pandas as pd

    values = pd.read_csv(REFERENCE_DIR / "lme4_reference.csv", keep_default_na=False)
    return values.set_index(["case", "quantity", "term"])["value"]


def lme4_value(case: str, quantity: str, term: str = "") -> float:
    """One value of lme4_reference.csv: ``case`` of tests/reference/cases.csv, ``quantity``
    (fixef, se, tau00, sigma2, loglik, ...) and ``term`` ("" for variance components)."""
    return float(_lme4_values().loc[(case, quantity, term)])


# --------------------------------------------------------------------------- questions
# ui.questions.ask draws a form with a `<key>_pick` widget and a `<key>_button`, and after the
# answer a keyed container `<key>_answer`; these read and drive that from AppTest.


def find_block(node, key: str):
    """The element or container with ``key`` below ``node`` (e.g. ``at.main``), or None."""
    if getattr(node, "key", None) == key:
        return node
    for child in getattr(node, "children", {}).values():
        found = find_block(child, key)
        if found is not None:
            return found
    return None


def element_texts(node) -> list[str]:
    """Every text shown below ``node``: markdown, alerts, captions, headings, metric labels
    and values, in page order."""
    texts = []
    for attribute in ("label", "value"):
        value = getattr(node, attribute, None)
        if isinstance(value, str):
            texts.append(value)
    for child in getattr(node, "children", {}).values():
        texts += element_texts(child)
    return texts


def element_keys(node) -> set[str]:
    """The keys of every element and container below ``node`` (charts drawn by show_chart
    carry their key)."""
    keys = {node.key} if isinstance(getattr(node, "key", None), str) else set()
    for child in getattr(node, "children", {}).values():
        keys |= element_keys(child)
    return keys


def open_questions(at) -> list[str]:
    """The keys of the questions on screen that wait for an answer, in page order."""
    return [w.key[: -len("_pick")] for w in [*at.radio, *at.slider]
            if w.key and w.key.endswith("_pick")]


def answer_question(at, key: str, pick=None):
    """Answer question ``key`` as a student does: choose an option (its index; the first by
    default) or set the guess (the slider's low end by default), then press the button."""
    widget = next(w for w in [*at.radio, *at.slider] if w.key == f"{key}_pick")
    if pick is None:
        pick = 0 if type(widget).__name__ == "Radio" else widget.min
    widget.set_value(pick)
    at.button(key=f"{key}_button").click()
    return at.run()


def answer_every_question(at):
    """Answer every question on screen (so the view shows everything it can)."""
    for key in open_questions(at):
        answer_question(at, key)
    return at


def latex_numbers(tex: str) -> list[float]:
    """The decimal numbers of a LaTeX line as a student reads them, in order (a minus sign
    belongs to the number after it), e.g. to read a formula with a group's numbers back."""
    flat = re.sub(r"\s+", " ", tex)
    return [float(x.replace(" ", "")) for x in re.findall(r"-\s?\d+\.\d+|\d+\.\d+", flat)]

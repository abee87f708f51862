"""The trace types HLM Lab's code makes, found by reading it (ast): for checking them against
the partial plotly.js bundle (tests/core/test_plotly_bundle.py, and in Chromium
tests/browser/test_plotly_bundle_browser.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType

REPO = Path(__file__).resolve().parents[1]
# Everything that builds a figure a student sees: the core (figures, analyses), the pages
# and the Streamlit layer.
FIGURE_SOURCES = [REPO / "app.py", *sorted((REPO / "hlmlab").rglob("*.py")),
                  *sorted((REPO / "pages").glob("*.py")), *sorted((REPO / "ui").glob("*.py"))]
# plotly's trace classes and their type names (go.Scatter -> "scatter").
TRACE_CLASSES = {name: getattr(go, name)().type for name in dir(go)
                 if isinstance(getattr(go, name), type)
                 and issubclass(getattr(go, name), BaseTraceType)}
TRACE_TYPES = set(TRACE_CLASSES.values())


def trace_types_in(source: str) -> set[str]:
    """The trace types a module's code makes: ``go.<Trace>(...)``, ``fig.add_<trace>(...)``,
    ``{"type": "<trace>"}`` / ``dict(type="<trace>")``; "plotly.express" when it uses px,
    whose functions choose trace types themselves."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in TRACE_CLASSES:
            found.add(TRACE_CLASSES[node.attr])
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("add_")
              and node.attr[4:] in TRACE_TYPES):
            found.add(node.attr[4:])
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and key.value == "type"
                        and isinstance(value, ast.Constant) and value.value in TRACE_TYPES):
                    found.add(value.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for keyword in node.keywords:
                if (keyword.arg == "type" and isinstance(keyword.value, ast.Constant)
                        and keyword.value.value in TRACE_TYPES):
                    found.add(keyword.value.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names]
            if any(name == "plotly.express" or name.startswith("plotly.express.") or
                   (isinstance(node, ast.ImportFrom) and node.module == "plotly"
                    and name == "express") for name in names):
                found.add("plotly.express")
    return found

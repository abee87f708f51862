"""Streamlit settings that first loads depend on (.streamlit/config.toml)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [REPO / "app.py", *sorted((REPO / "pages").glob("*.py"))]


def magic_statements(source: str) -> list[str]:
    """Statements Streamlit's magic would display: a bare expression that is not a call
    (``st.title(...)``), an await or yield, or a docstring (first statement of a body)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for index, statement in enumerate(body):
            if not isinstance(statement, ast.Expr) or isinstance(
                    statement.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
                continue
            if (index == 0 and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)):
                continue
            found.append(f"line {statement.lineno}: {ast.unparse(statement)[:60]}")
    return found


def test_the_scan_sees_what_magic_would_show():
    source = '"""Docstring."""\nimport streamlit as st\nst.title("t")\n"shown by magic"\nframe\n'
    assert magic_statements(source) == ['line 4: \'shown by magic\'', "line 5: frame"]


def test_magic_is_off_and_no_page_relies_on_it():
    """Magic's AST rewrite made each compile of a page 5-10x dearer, and Streamlit compiles
    the pages again whenever its last session disconnects (a fresh server's first tabs, or
    a new tab when nobody else is connected). With it off, a bare expression would silently
    show nothing: call st.write instead."""
    runner = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["runner"]
    assert runner["magicEnabled"] is False
    relying = {str(path.relative_to(REPO)): magic_statements(path.read_text(encoding="utf-8"))
               for path in SCRIPTS}
    assert {path: lines for path, lines in relying.items() if lines} == {}

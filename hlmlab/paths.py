"""Where HLM Lab's bundled files are: the data sets and the lesson Markdown.

Two layouts are supported, looked up in this order:

1. an installed package (``pip install .``): the wheel carries ``data/`` and ``lessons/``
   inside the package, as ``hlmlab/data`` and ``hlmlab/lessons`` (pyproject.toml's
   ``force-include``), so a notebook finds them wherever site-packages is;
2. a checkout: the top-level ``data/`` and ``lessons/`` beside the ``hlmlab`` folder.

Nothing here reads a file; the loaders (:mod:`hlmlab.datasets`, :mod:`hlmlab.lesson_text`)
take these folders as defaults and accept any other.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKOUT_DIR", "DATA_DIR", "LESSONS_DIR", "PACKAGE_DIR", "bundled_dir"]

PACKAGE_DIR = Path(__file__).resolve().parent
#: The folder holding ``hlmlab/`` itself: the repository root in a checkout.
CHECKOUT_DIR = PACKAGE_DIR.parent


def bundled_dir(name: str) -> Path:
    """The folder ``name`` (``"data"`` or ``"lessons"``): inside the installed package when
    the wheel put it there, else the checkout's top-level folder of that name."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else CHECKOUT_DIR / name


DATA_DIR = bundled_dir("data")
LESSONS_DIR = bundled_dir("lessons")

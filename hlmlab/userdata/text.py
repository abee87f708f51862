"""Messages about a user's file: one exception type, and file text echoed safely.

Every message HLM Lab writes about a file may end up in ``st.error`` or ``st.warning``, which
render Markdown (links, images, emphasis, ``$...$`` maths, ``:red[...]`` colours). Text taken
from a file (a column name, a cell, the file's name) therefore never enters a message
bare: :func:`shown` cuts it to :data:`ECHO_LIMIT` characters, writes control characters as
visible escapes and puts it in a Markdown code span, where none of that syntax is active.
The result also reads well as plain text: ``Column `math` must hold numbers``.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["ECHO_LIMIT", "UserDataError", "count_phrase", "refused_if_unreadable", "shown",
           "shown_list"]

#: At most this many characters of a file's own text are echoed in a message.
ECHO_LIMIT = 40
#: At most this many items (column names, values) are listed in one message.
LIST_LIMIT = 5


class UserDataError(ValueError):
    """A file, or a choice of columns, that HLM Lab cannot use.

    The message is one or two plain sentences for a student: what is wrong and what to do.
    It never carries a traceback, a codec's or parser's own words, or more than
    :data:`ECHO_LIMIT` characters of any text from the file.
    """


def _visible(char: str) -> str:
    """A character as a reader can see it: control and format characters as escapes."""
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
        escaped = char.encode("unicode_escape").decode("ascii")
        return escaped if escaped != char else f"\\u{ord(char):04x}"
    return char


def shown(text: object, limit: int = ECHO_LIMIT) -> str:
    """Text from a file, ready to be put in a message: short, visible, inert as Markdown.

    Parameters
    ----------
    text : the name, cell or file name (converted with ``str``).
    limit : the most characters kept; longer text is cut and ends in an ellipsis.

    Returns
    -------
    str
        A Markdown code span, e.g. ```math```, with a fence longer than any run of backticks
        in the text; an empty text reads ``(empty)``.
    """
    raw = str(text)
    if raw == "":
        return "(empty)"
    cut = raw[:limit]
    body = "".join(_visible(char) for char in cut)[: limit + 12]
    if len(raw) > limit:
        body += "…"
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * (longest + 1)
    # A code span strips one space from each end; pad when the text starts or ends with a
    # backtick (it would merge with the fence) or a space (it would be lost).
    pad = " " if body[0] in "` " or body[-1] in "` " else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def shown_list(items: Iterable[object], limit: int = LIST_LIMIT) -> str:
    """Up to ``limit`` items, each :func:`shown`, then how many more there are."""
    items = list(items)
    listed = ", ".join(shown(item) for item in items[:limit])
    if len(items) > limit:
        listed += f" and {len(items) - limit:,} more"
    return listed


def count_phrase(count: int, singular: str, plural: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``, ``"12,000 columns"``."""
    word = singular if count == 1 else (plural or singular + "s")
    return f"{count:,} {word}"


@contextmanager
def refused_if_unreadable(message: str) -> Iterator[None]:
    """Run a third-party parser: any exception it raises becomes ``UserDataError(message)``
    (a parser's own words are never shown), its warnings are silenced, and a
    :class:`UserDataError` raised inside passes through unchanged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        except UserDataError:
            raise
        except Exception:  # noqa: BLE001 - any parser failure is a file we cannot read
            raise UserDataError(message) from None

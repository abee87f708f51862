"""A student's first page load at the websocket level, as Streamlit 1.67's frontend makes it.

A browser opening ``/<page>?<query>`` connects to ``/_stcore/stream`` (subprotocol
``streamlit``) and sends one ``BackMsg.rerun_script`` whose ``ClientState`` carries the query
string and, before it knows the app's pages, the URL path as ``page_name`` with an empty
``page_script_hash``. The server answers with ``ForwardMsg``s (new_session, navigation,
deltas, ...) and ends the run with ``script_finished`` (a run stopped by a rerun request ends
``FINISHED_EARLY_FOR_RERUN`` and the rerun follows). Only 127.0.0.1 is ever contacted.

This is the minimum the first-load tests need: no widget state, no slider moves.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.RootContainer_pb2 import RootContainer

FINISHED_EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN


@dataclass
class FirstLoad:
    """What one session saw of its first page load.

    Attributes
    ----------
    url : the page path and query it asked for (``/nels88_two_schools?step=4``).
    status : the last ``script_finished`` status name (``FINISHED_SUCCESSFULLY``), or None.
    exceptions : ``"Type: message"`` of every exception element drawn.
    page_not_found : page names the server said it does not know.
    navigation : page names of the last ``navigation`` message (the app's menu).
    sidebar : (element type, label or body) of every element drawn in the sidebar.
    main : (element type, label or body) of every element drawn in the main area.
    error : what went wrong on the client side (timeout, disconnect), or "".
    """

    url: str
    status: str | None = None
    exceptions: list[str] = field(default_factory=list)
    page_not_found: list[str] = field(default_factory=list)
    navigation: list[str] = field(default_factory=list)
    sidebar: list[tuple[str, str]] = field(default_factory=list)
    main: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


def first_rerun(page: str, query: str) -> bytes:
    """The browser's first ``rerun_script`` for ``/<page>?<query>``."""
    message = BackMsg()
    rerun = message.rerun_script
    rerun.query_string = query
    rerun.page_script_hash = ""
    if page:
        rerun.page_name = page
    context = rerun.context_info
    context.timezone, context.timezone_offset, context.locale = "UTC", 0, "en-US"
    return message.SerializeToString()


def _describe(element) -> tuple[str, str]:
    kind = element.WhichOneof("type")
    proto = getattr(element, kind)
    return kind, str(getattr(proto, "label", "") or getattr(proto, "body", ""))


async def connect(port: int, timeout: float):
    return await websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream",
                                    subprotocols=["streamlit"], max_size=None,
                                    open_timeout=timeout, ping_interval=None, close_timeout=2)


async def load(socket, page: str, query: str, timeout: float) -> FirstLoad:
    """Send the first rerun on an open ``socket`` and read until the run has finished."""
    seen = FirstLoad(f"/{page}" + (f"?{query}" if query else ""))
    await socket.send(first_rerun(page, query))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            raw = await asyncio.wait_for(socket.recv(), max(0.0, deadline - loop.time()))
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "navigation":
                seen.navigation = [p.page_name for p in message.navigation.app_pages]
            elif kind == "page_not_found":
                seen.page_not_found.append(message.page_not_found.page_name)
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                if element.WhichOneof("type") == "exception":
                    seen.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                in_sidebar = message.metadata.delta_path[:1] == [RootContainer.SIDEBAR]
                (seen.sidebar if in_sidebar else seen.main).append(_describe(element))
            elif kind == "script_finished" and message.script_finished != FINISHED_EARLY_FOR_RERUN:
                seen.status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                return seen
    except asyncio.TimeoutError:
        seen.error = f"no script_finished within {timeout} s"
    except websockets.ConnectionClosed as closed:
        seen.error = f"disconnected: {closed!r}"
    return seen


def first_loads_together(port: int, urls: list[tuple[str, str]],
                         timeout: float = 300.0) -> list[FirstLoad]:
    """Open one session per ``(page, query)`` first, then send every first rerun at the same
    moment (a class opening a link together), and collect what each saw.

    Runs its own event loop on a thread of its own: the caller's thread may already have
    one (Playwright's sync API keeps a loop running in the test's thread).
    """
    with ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, _first_loads(port, urls, timeout)).result()


async def _first_loads(port: int, urls: list[tuple[str, str]], timeout: float) -> list[FirstLoad]:
    sockets = await asyncio.gather(*(connect(port, timeout) for _ in urls))
    try:
        return list(await asyncio.gather(*(load(socket, page, query, timeout)
                                           for socket, (page, query) in zip(sockets, urls))))
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)

#!/usr/bin/env python3
"""A lecture hall of simulated students, at the websocket level (HLM Lab's own load benchmark).

Each student is what one browser tab does to a Streamlit 1.67 server, without the browser:

1. **Open the page.** An HTTP GET of the page's address (``/nels88_two_schools?step=4``),
   which is where a load balancer sets its stickiness cookie, then the websocket
   ``/_stcore/stream`` (subprotocol ``streamlit``) with that cookie, and a ``rerun_script``
   BackMsg naming the page by its URL path, with no widget state: what the frontend sends
   for a deep link before it knows the app's page hashes. Later runs carry the page's
   script hash (from ForwardMsg ``navigation``) and the query string the server last set.
2. **Keep every widget's state** as the frontend's ``WidgetStateManager`` does: a new widget
   registers its default (or the value the server set), the student's own values are kept
   across runs, and a widget that a finished run no longer drew is forgotten.
3. **Move one slider** (found by its label) K times after a think time. A slider inside an
   ``st.fragment`` is moved with a fragment rerun (``fragment_id`` set), as the browser does.
   A move is timed from the BackMsg sent to its ``script_finished``.
4. **Reconnect like the frontend** when the websocket drops (a worker killed behind the
   balancer): retry with a growing back-off, re-open the page with its current address and
   send the widget state it holds. The failed move and the time to the first finished run on
   the new connection are recorded.

It keeps the frontend's ForwardMsg cache (``cached_message_hashes``; ``ref_hash`` answers).

Output: one JSON document (``--out`` or stdout) and a one-line Markdown table row
(stderr, and in the JSON as ``table_row``). Exit status 0 clean, 1 errors, 2 nothing measured.

Examples (see benchmarks/README.md for the scenarios of issue 11)::

    python benchmarks/class_load.py --port 8501 --page nels88_two_schools --query step=4 \\
        --slider "Students per school" -n 150 -k 5 --think 2 --ramp 10 --values warm \\
        --server-pid "$PID"
    python benchmarks/class_load.py --page jsp_schools \\
        --query "jsp_view=5+·+When+separate+lines+are+fine" --slider "Pupils per school" \\
        -n 150 --lockstep --value-list 30,20,45 --pid-file /tmp/hlmlab-class/workers.pids

Only loopback addresses are accepted as targets: a load test here never leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import os
import random
import signal
import socket
import statistics
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider

try:  # server RSS/CPU are optional: the client itself does not need psutil
    import psutil
except ImportError:  # pragma: no cover - psutil ships with the test requirements
    psutil = None

FINISHED_RUN = ForwardMsg.FINISHED_SUCCESSFULLY
FINISHED_FRAGMENT = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
FINISHED_COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
FINISHED_EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN

# The frontend's reconnect back-off grows to a few seconds; these bounds follow it closely
# enough for a failover measurement (the first retry is quick, later ones spread out).
RECONNECT_FIRST_DELAY_S = 0.25
RECONNECT_MAX_DELAY_S = 4.0
RECONNECT_GIVE_UP_S = 60.0


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], share: float) -> float | None:
    """Linear-interpolated percentile (``share`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_seconds(values: list[float]) -> dict:
    """Count, p50, p95, max and mean of durations in seconds, reported in milliseconds."""
    if not values:
        return {"n": 0}
    to_ms = lambda seconds: round(seconds * 1000.0, 1)  # noqa: E731
    return {"n": len(values), "p50_ms": to_ms(percentile(values, 50)),
            "p95_ms": to_ms(percentile(values, 95)), "max_ms": to_ms(max(values)),
            "mean_ms": to_ms(statistics.fmean(values))}


@dataclass
class Record:
    """Everything the students of one run measured."""

    first_loads: list = field(default_factory=list)     # open -> first script_finished (s)
    moves: list = field(default_factory=list)           # BackMsg sent -> script_finished (s)
    lockstep_lateness: list = field(default_factory=list)  # move due -> its script_finished (s)
    reconnects: list = field(default_factory=list)      # disconnect -> page re-opened (s)
    errors: dict = field(default_factory=dict)
    error_examples: list = field(default_factory=list)
    moves_failed: int = 0          # moves sent whose answer never came (disconnect, timeout)
    cold_moves: int = 0            # moves to a value no student had asked for before
    fragment_moves: int = 0
    full_moves: int = 0
    students_done: int = 0
    first_sent: float | None = None
    last_finished: float | None = None
    move_times: list = field(default_factory=list)     # (finished at, latency) for timelines
    values_seen: set = field(default_factory=set)      # metric texts seen after moves

    def error(self, kind: str, detail: object = "") -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_examples) < 12:
            self.error_examples.append({"kind": kind, "detail": str(detail)[:300]})


# --------------------------------------------------------------------------- widget state


def registered_state(kind: str, element) -> tuple[str | None, object] | None:
    """The WidgetState field and value the frontend registers for a newly drawn widget.

    Returns None for elements without state (buttons send a trigger only when clicked), and
    ``(None, None)`` for a widget that has state but no value yet (a selectbox with
    ``index=None``): the browser then sends its id alone.
    """
    if kind == "slider":
        value = element.value if element.set_value and len(element.value) else element.default
        return "double_array_value", [float(v) for v in value]
    if kind == "checkbox":  # st.checkbox and st.toggle
        return "bool_value", bool(element.value if element.set_value else element.default)
    if kind in ("radio", "selectbox"):
        if element.set_value:
            return ("string_value", element.raw_value) if element.HasField("raw_value") else (None, None)
        if element.HasField("default") and 0 <= element.default < len(element.options):
            return "string_value", element.options[element.default]
        return None, None
    if kind == "multiselect":
        if element.set_value:
            return "string_array_value", list(element.raw_values)
        return "string_array_value", [element.options[i] for i in element.default
                                      if i < len(element.options)]
    if kind == "button_group":  # st.segmented_control, st.pills
        if element.set_value:
            return "string_array_value", list(element.raw_values)
        return "string_array_value", [element.options[i].content for i in element.default
                                      if i < len(element.options)]
    if kind in ("text_input", "text_area"):
        if element.set_value and element.HasField("value"):
            return "string_value", element.value
        return ("string_value", element.default) if element.HasField("default") else (None, None)
    if kind == "number_input":
        as_int = element.data_type == NumberInput.INT
        if element.set_value and element.HasField("value"):
            number = element.value
        elif element.HasField("default"):
            number = element.default
        else:
            return None, None
        return ("int_value", int(number)) if as_int else ("double_value", float(number))
    if kind == "color_picker":
        return "string_value", element.value if element.set_value else element.default
    return None


@dataclass
class TrackedSlider:
    label: str
    low: float
    high: float
    step: float
    options: list
    is_int: bool

    def grid(self) -> list[float]:
        """Every value a browser can send for this slider (its thumb snaps to the step)."""
        if self.options:
            return [float(i) for i in range(len(self.options))]
        count = int(round((self.high - self.low) / self.step))
        return [round(self.low + i * self.step, 10) for i in range(count + 1)]


class WidgetBook:
    """The widget states a browser tab holds, keyed by widget id (like WidgetStateManager)."""

    def __init__(self):
        self.states: dict[str, list] = {}        # id -> [field, value, fragment_id]
        self.sliders: dict[str, TrackedSlider] = {}

    def note(self, kind: str, element, fragment_id: str, drawn: set) -> None:
        registered = registered_state(kind, element)
        widget_id = getattr(element, "id", "")
        if registered is None or not widget_id:
            return
        drawn.add(widget_id)
        known = self.states.get(widget_id)
        if known is None or getattr(element, "set_value", False):
            self.states[widget_id] = [registered[0], registered[1], fragment_id]
        else:  # the student's own value stays; the server drew it again, maybe elsewhere
            known[2] = fragment_id
        if kind == "slider":
            self.sliders[widget_id] = TrackedSlider(
                element.label, element.min, element.max, element.step or 1.0,
                list(element.options), element.data_type == Slider.INT)

    def forget_undrawn(self, drawn: set, fragment_id: str) -> None:
        """After a finished run: drop widgets it did not draw (a fragment run: only its own)."""
        for widget_id, (_, _, owner) in list(self.states.items()):
            if widget_id in drawn or (fragment_id and owner != fragment_id):
                continue
            del self.states[widget_id]
            self.sliders.pop(widget_id, None)

    def find_slider(self, label: str) -> str | None:
        """Id of the slider whose label is ``label``, else the first whose label contains it."""
        for widget_id, slider in self.sliders.items():
            if slider.label == label:
                return widget_id
        wanted = label.lower()
        return next((wid for wid, s in self.sliders.items() if wanted in s.label.lower()), None)

    def value(self, widget_id: str) -> list | None:
        state = self.states.get(widget_id)
        return state[1] if state else None

    def fragment_of(self, widget_id: str) -> str:
        return self.states[widget_id][2]

    def fill(self, widget_states) -> None:
        """Write every held state into a WidgetStates proto."""
        for widget_id, (field_name, value, _) in self.states.items():
            proto = widget_states.widgets.add()
            proto.id = widget_id
            if field_name in ("double_array_value", "string_array_value"):
                getattr(proto, field_name).data.extend(value)
            elif field_name is not None:
                setattr(proto, field_name, value)


# --------------------------------------------------------------------------- HTTP + websocket


async def http_get(host: str, port: int, path: str, cookies: dict, timeout: float) -> dict:
    """A minimal HTTP/1.1 GET: status, Set-Cookie values taken into ``cookies``, body size.

    A browser's first request for the page is where a balancer inserts its cookie; doing it
    here keeps the client sticky exactly as a tab is.
    """
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                 "User-Agent: hlmlab-class-load", "Accept: text/html"]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    header_lines = head.decode("latin-1").split("\r\n")
    status = int(header_lines[0].split()[1]) if header_lines and len(header_lines[0].split()) > 1 else 0
    for line in header_lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            take_cookies(value, cookies)
    return {"status": status, "bytes": len(body)}


def take_cookies(set_cookie_value: str, cookies: dict) -> None:
    parsed = SimpleCookie()
    parsed.load(set_cookie_value)
    for name, morsel in parsed.items():
        cookies[name] = morsel.value


class Disconnected(Exception):
    """The websocket closed (or could not open) while a run was expected."""


class RunTimeout(Exception):
    """No script_finished within the timeout."""


@dataclass
class RunOutcome:
    seconds: float
    status: int
    element_counts: dict
    exceptions: list
    metric_values: list


class PageConnection:
    """One websocket to the server with the frontend's ForwardMsg cache."""

    def __init__(self, options, cookies: dict):
        self.options = options
        self.cookies = cookies
        self.socket = None
        self.message_cache: dict[str, bytes] = {}
        self.page_script_hash = ""

    async def open(self) -> None:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        try:
            self.socket = await asyncio.wait_for(websockets.connect(
                self.options.ws_url, subprotocols=["streamlit"], max_size=None,
                additional_headers=headers, open_timeout=self.options.timeout,
                ping_interval=None, close_timeout=1, user_agent_header="hlmlab-class-load"),
                self.options.timeout)
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as error:
            raise Disconnected(repr(error)) from error
        response = getattr(self.socket, "response", None)
        if response is not None:
            for value in response.headers.get_all("Set-Cookie"):
                take_cookies(value, self.cookies)

    async def close(self) -> None:
        if self.socket is not None:
            try:
                await self.socket.close()
            except Exception:  # noqa: BLE001 - closing a dead socket must not hide the result
                pass

    async def run(self, payload: bytes, book: WidgetBook, fragment_id: str, record: Record,
                  query_holder: list) -> RunOutcome:
        """Send one rerun and read ForwardMsgs until its script_finished."""
        started = time.monotonic()
        if record.first_sent is None:
            record.first_sent = started
        counts: dict[str, int] = {}
        exceptions: list[str] = []
        metrics: list[str] = []
        drawn: set = set()
        try:
            await self.socket.send(payload)
        except websockets.ConnectionClosed as error:
            raise Disconnected(repr(error)) from error
        deadline = started + self.options.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunTimeout(f"no script_finished within {self.options.timeout} s")
            try:
                raw = await asyncio.wait_for(self.socket.recv(), remaining)
            except asyncio.TimeoutError:
                raise RunTimeout(f"no script_finished within {self.options.timeout} s") from None
            except websockets.ConnectionClosed as error:
                raise Disconnected(repr(error)) from error
            message = ForwardMsg()
            message.ParseFromString(raw)
            kind = message.WhichOneof("type")
            if kind == "ref_hash":  # the server knows we cached this message
                cached = self.message_cache.get(message.ref_hash)
                if cached is None:
                    record.error("ref_hash_miss", message.ref_hash)
                    continue
                message = ForwardMsg()
                message.ParseFromString(cached)
                kind = message.WhichOneof("type")
            elif message.metadata.cacheable and message.hash:
                self.message_cache[message.hash] = raw
            if kind == "new_session" and message.new_session.page_script_hash:
                self.page_script_hash = message.new_session.page_script_hash
            elif kind == "navigation" and message.navigation.page_script_hash:
                self.page_script_hash = message.navigation.page_script_hash
            elif kind == "page_info_changed":
                query_holder[0] = message.page_info_changed.query_string
            elif kind == "page_not_found":
                record.error("page_not_found", message.page_not_found.page_name)
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                element_kind = element.WhichOneof("type")
                counts[element_kind] = counts.get(element_kind, 0) + 1
                if element_kind == "exception":
                    exceptions.append(f"{element.exception.type}: {element.exception.message}")
                elif element_kind == "metric":
                    metrics.append(element.metric.body)
                elif element_kind == "bidi_component":
                    name = f"bidi_component:{element.bidi_component.component_name}"
                    counts[name] = counts.get(name, 0) + 1
                book.note(element_kind, getattr(element, element_kind), message.delta.fragment_id,
                          drawn)
            elif kind == "script_finished":
                status = message.script_finished
                if status == FINISHED_EARLY_FOR_RERUN:
                    continue  # the server starts the run again (e.g. st.rerun); keep reading
                finished = time.monotonic()
                record.last_finished = finished
                if status in (FINISHED_RUN, FINISHED_FRAGMENT):
                    book.forget_undrawn(drawn, fragment_id if status == FINISHED_FRAGMENT else "")
                return RunOutcome(finished - started, status, counts, exceptions, metrics)


# --------------------------------------------------------------------------- values


class ValuePlan:
    """Which slider value each student sends at each move, by ``--values`` mode.

    - ``random``: each student picks on-grid values at random.
    - ``warm``: every student sweeps the same few on-grid values (after the first student,
      cache hits everywhere).
    - ``cold``: each move takes an on-grid value nobody in this run has asked for yet, while
      any is left (on a fresh server: a cache miss). Browsers snap to the grid, so off-grid
      floats, which a browser cannot send, are never used.
    - ``--value-list``: move i of every student goes to value i (the lecture pattern).
    """

    def __init__(self, options, seed: int):
        self.options = options
        self.rng = random.Random(seed)
        self.requested: set = set()
        self.warm_values: list[float] = []

    def next_value(self, slider: TrackedSlider, current: float, move: int,
                   rng: random.Random) -> tuple[float | None, bool]:
        """(value to send or None if the browser would send nothing, is it a first request)."""
        grid = slider.grid()
        if self.options.value_list:
            value = self.options.value_list[move % len(self.options.value_list)]
            if slider.options:
                value = float(slider.options.index(str(value))) if str(value) in slider.options else value
        elif self.options.values == "warm":
            if not self.warm_values:
                start = self.rng.randrange(len(grid))
                self.warm_values = [grid[(start + i) % len(grid)] for i in range(self.options.k)]
            value = self.warm_values[move % len(self.warm_values)]
            if value == current:
                value = grid[(grid.index(value) + 1) % len(grid)] if value in grid else value
        elif self.options.values == "cold":
            fresh = [v for v in grid if v not in self.requested and v != current]
            value = rng.choice(fresh) if fresh else rng.choice([v for v in grid if v != current] or grid)
        else:
            value = rng.choice([v for v in grid if v != current] or grid)
        if value == current:
            return None, False
        first_request = value not in self.requested
        self.requested.add(value)
        return value, first_request


# --------------------------------------------------------------------------- students


class Student:
    """One browser tab: open the page, move the slider, reconnect when the socket drops."""

    def __init__(self, number: int, options, record: Record, plan: ValuePlan, seed: float):
        self.number = number
        self.options = options
        self.record = record
        self.plan = plan
        self.rng = random.Random(seed)
        self.cookies: dict[str, str] = {}
        self.book = WidgetBook()
        self.query = [options.query]      # a one-item list: PageConnection updates it in place
        self.connection: PageConnection | None = None
        self.open_count = 0

    def page_path(self) -> str:
        path = f"{self.options.base_path}/{self.options.page}"
        return quote(path) + (f"?{self.browser_query()}" if self.query[0] else "")

    def browser_query(self) -> str:
        """The query string as ``location.search`` holds it: percent-encoded UTF-8."""
        return quote(self.query[0], safe="=&+,%")

    def rerun_payload(self, moved_id: str | None = None, value: list | None = None,
                      fragment_id: str = "") -> bytes:
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.browser_query()
        state.page_script_hash = self.connection.page_script_hash
        if not state.page_script_hash and self.options.page:
            state.page_name = self.options.page
        if fragment_id:
            state.fragment_id = fragment_id
        context = state.context_info
        context.timezone, context.timezone_offset, context.locale = "UTC", 0, "en-US"
        context.url = f"{self.options.http_url}{self.page_path().lstrip('/')}"
        context.is_embedded = False
        context.color_scheme = "light"
        if moved_id is not None:
            self.book.states[moved_id][1] = value
        self.book.fill(state.widget_states)
        state.cached_message_hashes.extend(self.connection.message_cache)
        return message.SerializeToString()

    async def open_page(self, replaying: bool) -> RunOutcome:
        """GET the page (the balancer's cookie), open the websocket, run the page once."""
        options = self.options
        self.open_count += 1
        if options.page_get:
            await http_get(options.host, options.port, self.page_path(), self.cookies,
                           options.timeout)
        # The tab keeps its ForwardMsg cache across reconnects, as the frontend does: entries
        # are addressed by content hash, so they stay valid on another worker.
        kept_cache = self.connection.message_cache if self.connection else {}
        self.connection = PageConnection(options, self.cookies)
        self.connection.message_cache = kept_cache
        await self.connection.open()
        if not replaying:
            self.book = WidgetBook()
        outcome = await self.connection.run(self.rerun_payload(), self.book, "", self.record,
                                            self.query)
        self.check(outcome, "open")
        return outcome

    def check(self, outcome: RunOutcome, what: str) -> None:
        for text in outcome.exceptions:
            self.record.error("exception_element", f"{what}: {text}")
        if outcome.status == FINISHED_COMPILE_ERROR:
            self.record.error("compile_error", what)
        for expected in self.options.expect_element or []:
            if not outcome.element_counts.get(expected):
                self.record.error("missing_element", f"{what}: {expected}")

    async def reconnect(self) -> None:
        """The frontend's behaviour after a dropped socket: retry until the page opens again."""
        lost_at = time.monotonic()
        delay = RECONNECT_FIRST_DELAY_S
        while time.monotonic() - lost_at < RECONNECT_GIVE_UP_S:
            await asyncio.sleep(delay * self.rng.uniform(0.8, 1.2))
            try:
                await self.open_page(replaying=True)
            except (Disconnected, OSError, asyncio.TimeoutError):
                delay = min(delay * 2, RECONNECT_MAX_DELAY_S)
                continue
            self.record.reconnects.append(time.monotonic() - lost_at)
            return
        raise Disconnected(f"could not reconnect within {RECONNECT_GIVE_UP_S} s")

    async def attend(self, start_at: float, class_started: float) -> None:
        options, record = self.options, self.record
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        opened = time.monotonic()
        try:
            await self.open_page(replaying=False)
        except (Disconnected, OSError, asyncio.TimeoutError) as error:
            record.error("connect_failed", repr(error))
            return
        except RunTimeout as error:
            record.error("timeout", f"open: {error}")
            return
        record.first_loads.append(time.monotonic() - opened)
        try:
            await self.move_slider(class_started)
            record.students_done += 1
        except RunTimeout as error:
            record.error("timeout", error)
        except Disconnected as error:
            record.error("gave_up_reconnecting", error)
        finally:
            if options.hold > 0:
                await asyncio.sleep(options.hold)
            await self.connection.close()

    async def move_slider(self, class_started: float) -> None:
        options, record = self.options, self.record
        if options.k == 0:  # -k 0: a class that only opens the page (any page, no slider)
            return
        target = self.book.find_slider(options.slider)
        if target is None:
            record.error("missing_slider", f"{options.slider!r} not among "
                                           f"{[s.label for s in self.book.sliders.values()]}")
            return
        for move in range(options.k):
            due = None
            if options.lockstep:
                due = (class_started + options.ramp + (move + 1) * options.think
                       + self.rng.uniform(0, options.lockstep_spread))
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            elif options.think > 0:
                await asyncio.sleep(options.think * self.rng.uniform(0.5, 1.5))
            if target not in self.book.sliders:
                target = self.book.find_slider(options.slider)
                if target is None:
                    record.error("missing_slider", f"{options.slider!r} gone before move {move}")
                    return
            slider = self.book.sliders[target]
            current = self.book.value(target)[0]
            value, first_request = self.plan.next_value(slider, current, move, self.rng)
            if value is None:
                continue  # already there: a browser sends nothing
            fragment_id = "" if options.full_reruns else self.book.fragment_of(target)
            payload = self.rerun_payload(target, [value], fragment_id)
            if fragment_id:
                record.fragment_moves += 1
            else:
                record.full_moves += 1
            record.cold_moves += first_request
            try:
                outcome = await self.connection.run(payload, self.book, fragment_id, record,
                                                    self.query)
            except Disconnected as error:
                record.moves_failed += 1
                record.error("disconnect", error)
                await self.reconnect()
                target = self.book.find_slider(options.slider) or target
                continue
            except RunTimeout:
                record.moves_failed += 1
                raise
            record.moves.append(outcome.seconds)
            record.move_times.append((time.monotonic(), outcome.seconds))
            if due is not None:
                record.lockstep_lateness.append(time.monotonic() - due)
            record.values_seen.update(outcome.metric_values)
            self.check(outcome, f"move {move} -> {value}")
            kept = self.book.value(target)
            if kept is None:
                record.error("missing_slider", f"gone after move {move}")
                return
            if kept != [value]:
                record.error("value_not_kept", f"sent {value}, page holds {kept}")


async def open_page_once(port: int, page: str, query: str = "", host: str = "127.0.0.1",
                         timeout: float = 120.0) -> RunOutcome:
    """Open one page as a new browser tab would and wait for its first run to finish.

    Used to warm a worker before the balancer sends it students (scripts/warm_worker.py).
    Raises Disconnected or RunTimeout when the page does not finish.
    """
    options = parse_options(["--host", host, "--port", str(port), "--page", page, "--query", query,
                             "--slider", "", "--timeout", str(timeout)])
    record = Record()
    student = Student(0, options, record, ValuePlan(options, 0), 0.0)
    try:
        outcome = await student.open_page(replaying=False)
    finally:
        if student.connection is not None:
            await student.connection.close()
    outcome.exceptions.extend(f"{e['kind']}: {e['detail']}" for e in record.error_examples
                              if e["kind"] != "exception_element")
    return outcome


def wait_healthy(port: int, timeout: float = 60.0, host: str = "127.0.0.1",
                 interval: float = 0.2, keep_waiting=None) -> float | None:
    """Seconds until ``/_stcore/health`` answers 200 on ``port``; None if it never does, or
    once ``keep_waiting()`` (optional) returns False (the server process has ended)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and (keep_waiting is None or keep_waiting()):
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(interval)
    return None


def free_port() -> int:
    """A TCP port nobody listens on now (for a test or benchmark server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- server sampling


class ServerSampler:
    """RSS and CPU summed over the server's processes (every worker behind a balancer).

    Processes come from ``--server-pid`` (with their children) and from ``--pid-file`` (one
    pid a line, re-read at every sample, so a worker that is killed or restarted is followed).
    """

    def __init__(self, pids: list[int], pid_file: str | None, interval: float):
        self.fixed_pids = list(pids or [])
        self.pid_file = Path(pid_file) if pid_file else None
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []   # (t, rss bytes, cpu %)
        self.cpu_seen: dict[int, float] = {}                   # pid -> last cpu seconds
        self.cpu_start: dict[int, float] = {}
        self.task = None

    def processes(self) -> list:
        if psutil is None:
            return []
        pids = list(self.fixed_pids)
        if self.pid_file and self.pid_file.exists():
            pids += [int(line) for line in self.pid_file.read_text().split() if line.strip().isdigit()]
        found = {}
        for pid in pids:
            try:
                process = psutil.Process(pid)
                found[pid] = process
                for child in process.children(recursive=True):
                    found[child.pid] = child
            except psutil.Error:
                continue
        return list(found.values())

    def read_cpu(self) -> None:
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self.cpu_seen[process.pid] = times.user + times.system
            self.cpu_start.setdefault(process.pid, self.cpu_seen[process.pid]
                                      if self.task is None else 0.0)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_seen[pid] - self.cpu_start.get(pid, 0.0) for pid in self.cpu_seen)

    async def sample_forever(self) -> None:
        last_t, last_cpu = time.monotonic(), self.cpu_seconds()
        while True:
            await asyncio.sleep(self.interval)
            self.read_cpu()
            rss = 0
            for process in self.processes():
                try:
                    rss += process.memory_info().rss
                except psutil.Error:
                    continue
            now, cpu = time.monotonic(), self.cpu_seconds()
            self.samples.append((now, rss, 100.0 * (cpu - last_cpu) / max(now - last_t, 1e-9)))
            last_t, last_cpu = now, cpu

    def start(self) -> None:
        self.read_cpu()
        self.task = asyncio.create_task(self.sample_forever())

    async def stop(self) -> None:
        self.read_cpu()
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def summary(self) -> dict:
        if not self.samples:
            return {}
        rss = [s[1] for s in self.samples]
        cpu = [s[2] for s in self.samples]
        return {"rss_peak_mb": round(max(rss) / 2**20, 1), "rss_end_mb": round(rss[-1] / 2**20, 1),
                "cpu_mean_pct": round(statistics.fmean(cpu), 1),
                "cpu_p95_pct": round(percentile(cpu, 95), 1),
                "cpu_s": round(self.cpu_seconds(), 2), "processes": len(self.cpu_seen)}


# --------------------------------------------------------------------------- the class


async def kill_a_worker_later(options, record: Record, report: dict) -> None:
    """``--kill-worker-after S``: SIGKILL one worker S seconds into the run (failover test)."""
    await asyncio.sleep(options.kill_worker_after)
    pid = options.kill_pid
    if pid is None and options.pid_file and Path(options.pid_file).exists():
        pids = [int(x) for x in Path(options.pid_file).read_text().split() if x.isdigit()]
        pid = pids[0] if pids else None
    if pid is None:
        record.error("kill_failed", "no pid to kill (--kill-pid or --pid-file)")
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as error:
        record.error("kill_failed", repr(error))
        return
    report["killed_pid"] = pid
    report["killed_at_s"] = round(time.monotonic() - report["_started"], 2)
    report["moves_done_before_kill"] = len(record.moves)
    report["_killed_monotonic"] = time.monotonic()


def table_row(options, summary: dict) -> str:
    """One Markdown table row: scenario, first load, moves, errors, throughput, server."""
    def ms(block, key):
        value = block.get(key)
        return "-" if value is None else (f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms")
    first, moves, server = summary["first_load"], summary["move"], summary.get("server", {})
    mode = "lock-step " + ",".join(f"{v:g}" for v in options.value_list) if options.lockstep else options.values
    errors = ", ".join(f"{k} {v}" for k, v in summary["errors"].items()) or "0"
    cpu_per_move = summary.get("server_cpu_s_per_move")
    return (f"| {options.page or '/'}{'?' + options.query if options.query else ''} · "
            f"\"{options.slider}\" | {options.n} | {mode} | "
            f"{ms(first, 'p50_ms')} / {ms(first, 'p95_ms')} / {ms(first, 'max_ms')} | "
            f"{ms(moves, 'p50_ms')} / {ms(moves, 'p95_ms')} / {ms(moves, 'max_ms')} | {errors} | "
            f"{summary['moves_per_s'] or '-'} | {server.get('rss_peak_mb', '-')} MB | "
            f"{server.get('cpu_mean_pct', '-')} % | "
            f"{'-' if cpu_per_move is None else f'{cpu_per_move * 1000:.0f} ms'} | "
            f"{'-' if not summary.get('host_load_1min') else ' → '.join(f'{v:.1f}' for v in summary['host_load_1min'])} |")


TABLE_HEADER = ("| page · slider | N | values | first load p50 / p95 / max | move p50 / p95 / max "
                "| errors | moves/s | server RSS peak | server CPU mean | server CPU per move "
                "| host load |\n|---|---|---|---|---|---|---|---|---|---|---|")


async def run_class(options) -> dict:
    """Run the whole class and return the report (a JSON-able dict)."""
    record = Record()
    load_before = os.getloadavg()
    plan = ValuePlan(options, options.seed)
    sampler = ServerSampler(options.server_pid, options.pid_file, options.sample_interval)
    sampler.start()
    seeds = random.Random(options.seed)
    students = [Student(i, options, record, plan, seeds.random()) for i in range(options.n)]
    started = time.monotonic()
    report: dict = {"_started": started}
    spacing = options.ramp / options.n if options.n > 1 else 0.0
    tasks = [asyncio.create_task(s.attend(started + i * spacing, started))
             for i, s in enumerate(students)]
    killer = (asyncio.create_task(kill_a_worker_later(options, record, report))
              if options.kill_worker_after is not None else None)
    done, pending = await asyncio.wait(tasks, timeout=options.max_wall or None)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if task.exception() is not None:
            record.error("client_exception", repr(task.exception()))
    if killer is not None:
        killer.cancel()
        await asyncio.gather(killer, return_exceptions=True)
    await sampler.stop()
    wall = time.monotonic() - started
    active = ((record.last_finished - record.first_sent)
              if record.first_sent and record.last_finished else None)
    server = sampler.summary()
    summary = {
        "url": options.http_url + options.page, "query": options.query,
        "slider": options.slider, "n": options.n, "k": options.k, "think_s": options.think,
        "ramp_s": options.ramp, "values": options.values, "lockstep": options.lockstep,
        "value_list": options.value_list or None, "full_reruns": options.full_reruns,
        "first_load": summarise_seconds(record.first_loads),
        "move": summarise_seconds(record.moves),
        "lockstep_due_to_answer": (summarise_seconds(record.lockstep_lateness)
                                   if options.lockstep else None),
        "moves_planned": options.n * options.k, "moves_done": len(record.moves),
        "moves_failed": record.moves_failed, "cold_moves": record.cold_moves,
        "reconnect": summarise_seconds(record.reconnects),
        "moves_sent": {"fragment": record.fragment_moves, "full": record.full_moves},
        "students_done": record.students_done,
        "errors_total": sum(record.errors.values()), "errors": record.errors,
        "error_examples": record.error_examples,
        "moves_per_s": round(len(record.moves) / active, 2) if active else None,
        "wall_s": round(wall, 1), "truncated": bool(pending),
        # other jobs on the machine move every number: the 1-minute load average around the run
        "host_load_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "server": server,
        "server_cpu_s_per_move": (round(server["cpu_s"] / len(record.moves), 4)
                                  if server and record.moves else None),
        "server_cpu_s_per_run": (round(server["cpu_s"] / (len(record.moves) + len(record.first_loads)), 4)
                                 if server and (record.moves or record.first_loads) else None),
        "metric_values_seen": sorted(record.values_seen)[:50],
    }
    if options.kill_worker_after is not None:
        killed_at = report.get("_killed_monotonic")
        after = [lat for t, lat in record.move_times if killed_at and t >= killed_at]
        summary["failover"] = {
            "killed_pid": report.get("killed_pid"), "killed_at_s": report.get("killed_at_s"),
            "moves_done_before_kill": report.get("moves_done_before_kill"),
            "moves_failed": record.moves_failed,
            "reconnects": summarise_seconds(record.reconnects),
            "moves_after_kill": summarise_seconds(after),
        }
    if options.timeline:
        summary["timeline"] = [[round(t - started, 3), round(latency, 4)]
                               for t, latency in sorted(record.move_times)]
    summary["table_row"] = table_row(options, summary)
    return summary


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_options(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--host", default="127.0.0.1", help="loopback only")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--base-path", default="", help="server.baseUrlPath, if set")
    parser.add_argument("--page", default="", help="the page's URL path, e.g. nels88_two_schools")
    parser.add_argument("--query", default="", help="query string without '?', e.g. step=4")
    parser.add_argument("--slider", required=True, help="the slider's label (or part of it)")
    parser.add_argument("-n", "--students", dest="n", type=int, default=10)
    parser.add_argument("-k", "--moves", dest="k", type=int, default=5)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean think time before a move, s (uniform 0.5x-1.5x)")
    parser.add_argument("--ramp", type=float, default=10.0, help="all students open within S s")
    parser.add_argument("--values", choices=("cold", "warm", "random"), default="random")
    parser.add_argument("--value-list", type=lambda text: [float(v) for v in text.split(",") if v],
                        default=[], help="move i of every student goes to value i")
    parser.add_argument("--lockstep", action="store_true",
                        help="move i of every student is due at ramp + (i+1) x think s")
    parser.add_argument("--lockstep-spread", type=float, default=1.0,
                        help="with --lockstep: a uniform 0..S s reaction time")
    parser.add_argument("--full-reruns", action="store_true",
                        help="move a slider in a fragment with full reruns (default: fragment rerun)")
    parser.add_argument("--expect-element", action="append",
                        help="an element every run must draw, e.g. bidi_component (repeatable)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per run, s")
    parser.add_argument("--max-wall", type=float, default=600.0, help="stop the class after S s")
    parser.add_argument("--hold", type=float, default=0.0, help="keep sockets open S s at the end")
    parser.add_argument("--server-pid", type=int, action="append", default=[],
                        help="a server process (its children are included); repeatable")
    parser.add_argument("--pid-file", help="file listing worker pids (scripts/serve_class.sh writes one)")
    parser.add_argument("--sample-interval", type=float, default=0.5)
    parser.add_argument("--kill-worker-after", type=float, default=None,
                        help="failover: SIGKILL one worker S s into the run")
    parser.add_argument("--kill-pid", type=int, default=None,
                        help="the worker to kill (default: the first of --pid-file)")
    parser.add_argument("--no-page-get", dest="page_get", action="store_false",
                        help="open the websocket without GETting the page first (no balancer "
                             "cookie; for comparing with clients that skip it)")
    parser.add_argument("--timeline", action="store_true",
                        help="add every move's (finished at s, latency s) to the report")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write the JSON report here (default: stdout)")
    options = parser.parse_args(argv)
    if not is_loopback(options.host):
        parser.error("class_load.py only targets loopback addresses")
    if options.lockstep and not options.value_list:
        parser.error("--lockstep needs --value-list")
    options.base_path = ("/" + options.base_path.strip("/")) if options.base_path.strip("/") else ""
    options.page = options.page.strip("/")
    options.query = options.query.lstrip("?")
    options.ws_url = f"ws://{options.host}:{options.port}{options.base_path}/_stcore/stream"
    options.http_url = f"http://{options.host}:{options.port}{options.base_path}/"
    return options


def main(argv=None) -> int:
    options = parse_options(argv)
    summary = asyncio.run(run_class(options))
    text = json.dumps(summary, indent=2)
    if options.out:
        Path(options.out).write_text(text + "\n")
    else:
        print(text)
    print(TABLE_HEADER + "\n" + summary["table_row"], file=sys.stderr)
    if not summary["moves_done"] and not summary["first_load"]["n"]:
        return 2
    return 1 if summary["errors_total"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the browser tests and the browser benchmark.

Everything a real-browser check of HLM Lab needs, and nothing about any one page:

- ``discover_pages`` reads app.py's ``PAGES`` list with :mod:`ast` (no Streamlit import), so a
  page added to app.py is tested without touching the tests;
- ``StreamlitServer`` runs ``streamlit run app.py`` as a subprocess on a free port and waits
  for ``/_stcore/health``;
- ``launch_chromium`` starts Debian's Chromium with the project's flags;
- ``PAGE_HOOKS`` is injected into every page before Streamlit's own code runs. It watches the
  websocket (the browser's ``rerun_script`` BackMsg, the server's ``script_finished``
  ForwardMsg), every plotly chart's ``plotly_afterplot`` event and key presses, all stamped
  with the page's own ``performance.now()`` clock, so a press, the end of its rerun and the
  redraw it caused are compared on one clock;
- ``wait_for_idle`` and ``wait_for_rerun`` implement "the app is idle" as described in
  ../shared/README.md (script state ``notRunning``, no stale element, no skeleton, every
  plotly chart drawn). Nothing waits to *see* ``running``: React may batch it away.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO_ROOT = Path(__file__).resolve().parents[2]
# The checkout whose app is served and tested. HLMLAB_APP_ROOT points the tests at another
# copy, e.g. one with a deliberately broken page to check that the tests fail.
APP_ROOT = Path(os.environ.get("HLMLAB_APP_ROOT") or REPO_ROOT).resolve()
APP = APP_ROOT / "app.py"
OUT_DIR = REPO_ROOT / "benchmarks" / "out"

CHROMIUM = "/usr/lib/chromium/chromium"  # the real binary; /usr/bin/chromium is a shell wrapper
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop / projector resolution

SLIDER_THUMB = ('[data-testid="stSlider"] [role="slider"], '
                '[data-testid="stSlider"] input[type="range"]')
EXCEPTION = '[data-testid="stException"]'
# A chart on the page: HLM Lab's chart element (ui/plotly_chart.js) or st.plotly_chart.
PLOTLY_CHART = '[data-testid="hlmChart"], [data-testid="stPlotlyChart"]'

# Field numbers of streamlit/proto: ForwardMsg.script_finished = 6 (an enum, wire type 0) and
# BackMsg.rerun_script = 11 (a message, wire type 2). tests/browser/test_browser.py checks them
# against the installed Streamlit's descriptors, so an upgrade that renumbers them fails loudly.
FORWARD_SCRIPT_FINISHED = 6
BACK_RERUN_SCRIPT = 11


# ---------------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class AppPage:
    """One ``st.Page`` of app.py.

    Attributes
    ----------
    path : the page's script path as written in app.py, e.g. ``pages/home.py``.
    title : its title (the file stem when app.py gives none).
    url_path : the URL path Streamlit serves it at: "" for the default page, else the
        ``url_path`` argument or the file stem.
    stem : the file stem, a stable name for reports and screenshots.
    """

    path: str
    title: str
    url_path: str
    stem: str
    default: bool = False

    def url(self, base: str, query: str = "") -> str:
        return f"{base}/{self.url_path}{query}"

    def source(self) -> str:
        return (APP.parent / self.path).read_text(encoding="utf-8")


def draws_charts(source: str) -> bool:
    """Whether a page's source draws a plotly chart: ``st.plotly_chart`` or the pages'
    shared ``show_chart`` helper (ui/chart.py)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "plotly_chart":
            return True
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_chart":
            return True
    return False


# Pages whose first view (the one their URL opens) is text and a question, without a chart,
# though a later view draws one.
FIRST_VIEW_WITHOUT_CHART = {"foundations"}


def first_view_charts(app_page: "AppPage") -> int:
    """How many charts a page's first view must have drawn before it counts as loaded."""
    if app_page.stem in FIRST_VIEW_WITHOUT_CHART:
        return 0
    return 1 if draws_charts(app_page.source()) else 0


def discover_pages(app_path: Path = APP) -> list[AppPage]:
    """Every ``st.Page(...)`` in the value assigned to ``PAGES`` in app.py, in order.

    ``PAGES`` may be a list or a dict of sections (``st.navigation`` accepts both); any
    ``st.Page`` call inside it counts. Pages given as callables instead of a path are not
    supported: this raises so the tests are updated rather than silently skipping a page.
    """
    tree = ast.parse(app_path.read_text(encoding="utf-8"), filename=str(app_path))
    value = None
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "PAGES" for t in targets):
            value = node.value
    if value is None:
        raise LookupError(f"{app_path} assigns no module-level PAGES")

    pages = []
    for node in ast.walk(value):
        if not (isinstance(node, ast.Call) and _call_name(node.func) == "Page"):
            continue
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        page_path = args[0] if args else kwargs.get("page")
        if not isinstance(page_path, str):
            raise ValueError(f"st.Page at app.py line {node.lineno} is not given a file path")
        stem = Path(page_path).stem
        default = bool(kwargs.get("default", False))
        url_path = "" if default else str(kwargs.get("url_path") or stem)
        pages.append(AppPage(page_path, str(kwargs.get("title") or stem), url_path, stem, default))
    # ast.walk is breadth-first; the source order is what a student sees in the menu.
    return sorted(pages, key=lambda p: _page_line(value, p.path))


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _page_line(value: ast.expr, page_path: str) -> tuple[int, int]:
    for node in ast.walk(value):
        if isinstance(node, ast.Constant) and node.value == page_path:
            return node.lineno, node.col_offset
    return 0, 0


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """``streamlit run app.py`` on a free port, as a subprocess in its own process group.

    Use as a context manager, or call ``start()`` and ``stop()``. ``started_at`` is the
    ``time.perf_counter()`` just before the process was spawned (for cold-start timings).
    Each server gets an empty result cache of its own (``HLMLAB_CACHE_DIR``, ui.panels'
    disk tier), removed when it stops: a fresh server is cold, whatever ran before it.
    """

    port: int = field(default_factory=free_port)
    cwd: Path = APP_ROOT
    timeout: float = 60.0
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    ready_at: float = 0.0
    log_path: Path | None = None
    cache_dir: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            # Others edit pages/ while tests run; a file watcher would put a "source file
            # changed" banner on screen and spend CPU on a shared 2-core machine.
            "--server.fileWatcherType", "none",
        ]

    def start(self) -> "StreamlitServer":
        log = tempfile.NamedTemporaryFile(prefix="hlmlab-streamlit-", suffix=".log", delete=False)
        self.log_path = Path(log.name)
        self.cache_dir = Path(tempfile.mkdtemp(prefix="hlmlab-test-results-"))
        env = dict(os.environ, PYTHONUNBUFFERED="1", HLMLAB_CACHE_DIR=str(self.cache_dir))
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            self.command(), cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        log.close()
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        self.ready_at = time.perf_counter()
        return self

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.timeout
        url = f"{self.base_url}/_stcore/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200 and response.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"streamlit not healthy after {self.timeout} s:\n{self.log()}")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (user + system; Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_until_idle(self, timeout: float = 60.0, quiet: float = 1.5) -> None:
        """Wait until the server has used almost no CPU for ``quiet`` seconds (its background
        work, e.g. the prefetcher, is done)."""
        deadline = time.monotonic() + timeout
        used, quiet_since = self.cpu_seconds(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now_used = self.cpu_seconds()
            if now_used - used > 0.02:
                quiet_since = time.monotonic()
            used = now_used
            if time.monotonic() - quiet_since >= quiet:
                return
        raise TimeoutError(f"the server was still busy after {timeout} s")

    def log(self, tail: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-tail:]

    def stop(self) -> None:
        """End the server's process group (ours alone: it was started in a new session)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
        if self.cache_dir is not None:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# The browser


def launch_chromium(playwright):
    """Debian's Chromium with the project's flags; Playwright makes a temporary profile."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


# The only console errors ignored. Opened directly at a page's own URL (/nels88_two_schools),
# Streamlit's frontend first probes that path as a possible base URL, asking for
# /<page>/_stcore/health and /<page>/_stcore/host-config, which 404, before it tries the
# server root and connects. A known, harmless Streamlit behaviour: streamlit/streamlit#7074.
# Only these two endpoints under a page path are ignored; a 404 anywhere else still fails.
HARMLESS_404 = re.compile(r"^/[^/]+(?:/[^/]+)*/_stcore/(?:health|host-config)$")

# page_icon=":material/...:" makes Streamlit's frontend point the tab's favicon at
# fonts.gstatic.com (a 24px svg). This machine has no internet, so that one request fails.
# It only costs the favicon; the icons inside the app come from the bundled font. (It does
# mean every student's browser asks Google for the icon.)
MATERIAL_FAVICON = re.compile(
    r"^https://fonts\.gstatic\.com/s/i/short-term/release/materialsymbols\w*/\w+/default/24px\.svg$"
)


class ConsoleErrors(list):
    """Console messages of type error and uncaught page errors, minus the harmless 404s."""

    def attach(self, page) -> "ConsoleErrors":
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.append(f"pageerror: {error}"))
        return self

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and (
            (urlparse(url).hostname == "127.0.0.1" and HARMLESS_404.match(urlparse(url).path))
            or MATERIAL_FAVICON.match(url)
        ):
            return
        self.append(f"console.error: {message.text} ({url})")


def assert_clean(page, errors: ConsoleErrors, where: str) -> None:
    """No exception box on the page and no console error so far."""
    exceptions = exception_texts(page)
    assert not exceptions, f"exception box {where}:\n" + "\n---\n".join(exceptions)
    assert not errors, f"console errors {where}:\n" + "\n".join(errors)


# Injected before any of the page's scripts. Plain ES2015; keeps everything on window.__hlm.
PAGE_HOOKS = r"""
(() => {
  if (window.__hlm) return;
  const hlm = window.__hlm = {
    finished: [],   // {t, status}: ForwardMsg.script_finished received
    reruns: [],     // {t}: BackMsg.rerun_script sent
    afterplot: [],  // {t, chart}: plotly_afterplot of any chart
    keys: [],       // {t, key}: keydown anywhere (capture phase, before Streamlit sees it)
    charts: 0,
  };
  // Top-level protobuf fields of one message: Map(field number -> varint value or true).
  function fields(bytes) {
    const out = new Map();
    let i = 0;
    const varint = () => {
      let value = 0, scale = 1, b;
      do {
        if (i >= bytes.length) throw new Error("truncated");
        b = bytes[i++];
        value += (b & 0x7f) * scale;
        scale *= 128;
      } while (b & 0x80);
      return value;
    };
    try {
      while (i < bytes.length) {
        const key = varint(), wire = key % 8, number = Math.floor(key / 8);
        if (wire === 0) out.set(number, varint());
        else if (wire === 2) { const n = varint(); i += n; out.set(number, true); }
        else if (wire === 1) { i += 8; out.set(number, true); }
        else if (wire === 5) { i += 4; out.set(number, true); }
        else break;
      }
    } catch (e) { /* a frame that is not a protobuf message: ignore */ }
    return out;
  }
  function asBytes(data) {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return null;
  }
  const Native = window.WebSocket;
  class WatchedWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const bytes = asBytes(event.data);
        if (!bytes) return;
        const f = fields(bytes);
        if (f.has(__FINISHED__)) hlm.finished.push({t: performance.now(), status: f.get(__FINISHED__)});
      });
    }
    send(data) {
      const bytes = asBytes(data);
      if (bytes && fields(bytes).has(__RERUN__)) hlm.reruns.push({t: performance.now()});
      return super.send(data);
    }
  }
  window.WebSocket = WatchedWebSocket;
  document.addEventListener("keydown", (e) => hlm.keys.push({t: performance.now(), key: e.key}), true);
  // Plotly charts: every plotly_afterplot, a new chart's first draw included. plotly.js
  // gives each chart div its own emit() when it first draws it (Events.init assigns
  // gd.emit); a setter on the prototype wraps that function as it is assigned. (Listening
  // with gd.on() after the div appears missed the first draw of a remounted chart.)
  Object.defineProperty(HTMLElement.prototype, "emit", {
    configurable: true,
    set(emit) {
      const chart = this.__hlmChart || (this.__hlmChart = ++hlm.charts);
      Object.defineProperty(this, "emit", {
        configurable: true, writable: true,
        value: function (name) {
          if (name === "plotly_afterplot") hlm.afterplot.push({t: performance.now(), chart});
          return emit.apply(this, arguments);
        },
      });
    },
  });
})();
""".replace("__FINISHED__", str(FORWARD_SCRIPT_FINISHED)).replace("__RERUN__", str(BACK_RERUN_SCRIPT))

# True when the app is idle in the sense of ../shared/README.md.
IDLE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')) return false;
  for (const chart of document.querySelectorAll('__CHART__')) {
    const gd = chart.querySelector(".js-plotly-plot");
    if (!gd || !gd._fullLayout || !gd.querySelector(".main-svg")) return false;
    if (chart.dataset.drawing === "true") return false;  // a newer figure is being drawn
  }
  return true;
}
""".replace("__CHART__", PLOTLY_CHART)


def install_hooks(context) -> None:
    """Add the websocket / plotly / key hooks to every page of a browser context."""
    context.add_init_script(PAGE_HOOKS)


def now(page) -> float:
    """The page's ``performance.now()`` in ms: the clock every hook stamps with."""
    return page.evaluate("performance.now()")


def wait_for_idle(page, timeout: float = 30.0, min_charts: int = 0, settle_ms: int = 150) -> None:
    """Wait until the app is idle and stays so for ``settle_ms``.

    One poll is not enough: plotly's code loads lazily and a chart's placeholder can leave
    the page a moment before the chart itself arrives. ``min_charts``: also wait for at
    least that many drawn plotly charts (a page known to have one), unless an exception box
    is on the page.
    """
    deadline = time.monotonic() + timeout
    # An exception box ends the wait for charts: a page that raised may never draw one, and
    # the caller wants the exception, not a timeout.
    condition = (f"() => ({IDLE_JS})() && (({CHARTS_DRAWN_JS})() >= {int(min_charts)}"
                 f" || !!document.querySelector('{EXCEPTION}'))")
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"app not idle after {timeout} s: {describe_state(page)}")
        try:
            page.wait_for_function(condition, timeout=remaining * 1000, polling="raf")
        except PlaywrightTimeout:
            raise TimeoutError(f"app not idle after {timeout} s: {describe_state(page)}") from None
        page.wait_for_timeout(settle_ms)
        if page.evaluate(condition):
            return


def wait_for_first_run(page, timeout: float = 30.0, min_charts: int = 0) -> None:
    """After ``page.goto``: the first ``script_finished`` arrived, then the app is idle."""
    page.wait_for_function("() => window.__hlm && window.__hlm.finished.length > 0",
                           timeout=timeout * 1000)
    wait_for_idle(page, timeout=timeout, min_charts=min_charts)


def wait_for_rerun(page, since: float, timeout: float = 30.0) -> dict:
    """Wait for the rerun a user action started at page time ``since`` (ms) to finish.

    Returns the first ``script_finished`` frame received after a ``rerun_script`` sent after
    ``since``: ``{"t": ms, "status": int, "rerun_t": ms}``. The status is the enum
    ``ForwardMsg.ScriptFinishedStatus`` (0 whole script, 3 fragment run, 2 finished early
    because a newer rerun replaced it: then the wait goes on for the newer one).
    """
    handle = page.wait_for_function(
        """(since) => {
            const h = window.__hlm;
            const rerun = h.reruns.find((r) => r.t >= since);
            if (!rerun) return null;
            const done = h.finished.filter((f) => f.t >= rerun.t && f.status !== 2);
            return done.length ? {t: done[0].t, status: done[0].status, rerun_t: rerun.t} : null;
        }""",
        arg=since, timeout=timeout * 1000, polling="raf",
    )
    return handle.json_value()


def afterplots_since(page, since: float) -> list[float]:
    return page.evaluate("(s) => window.__hlm.afterplot.filter((a) => a.t >= s).map((a) => a.t)",
                         since)


def wait_for_redraw(page, since: float, timeout: float = 10.0) -> float:
    """Page time (ms) of the first ``plotly_afterplot`` at or after ``since``."""
    handle = page.wait_for_function(
        """(s) => { const a = window.__hlm.afterplot.find((x) => x.t >= s); return a ? a.t : null; }""",
        arg=since, timeout=timeout * 1000, polling="raf",
    )
    return handle.json_value()


def chart_signature(page) -> list | None:
    """What every plotly chart on the page shows: per trace its name and x / y values.

    Read from ``_fullData``: plotly.py 6 sends arrays base64-encoded (``{dtype, bdata}``) and
    ``gd.data`` keeps that object, while ``_fullData`` holds the decoded typed arrays.
    """
    return page.evaluate(
        """() => {
            const charts = [...document.querySelectorAll('.js-plotly-plot')];
            if (!charts.length) return null;
            const arr = (v) => {
                if (v == null) return null;
                if (typeof v === "object" && "bdata" in v) return v.bdata;
                return Array.from(v, (x) => x == null ? null : String(x));
            };
            return charts.map((gd) => (gd._fullData || gd.data || [])
                .map((t) => [t.name || "", arr(t.x), arr(t.y)]));
        }"""
    )


CHARTS_DRAWN_JS = """
() => [...document.querySelectorAll('__CHART__')].map((c) => c.querySelector('.js-plotly-plot'))
      .filter((gd) => gd)
      .filter((gd) => gd._fullLayout && gd.querySelector('.main-svg .infolayer')).length
""".replace("__CHART__", PLOTLY_CHART)


def clipped_titles(page) -> list[str]:
    """Chart titles drawn partly above their chart, where they are cut off (a two-line
    ``<br>`` title does not push plotly's top margin; a subtitle does)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap((gd) => {
            const svg = gd.querySelector('.main-svg'), title = gd.querySelector('.gtitle');
            if (!svg || !title || !title.textContent) return [];
            // A text box reaches a few pixels above its capitals: a third of it may stick out.
            const box = title.getBoundingClientRect();
            const above = svg.getBoundingClientRect().top - box.top;
            return above > box.height / 3 ? [title.textContent] : [];
        })"""
    )


def charts_drawn(page) -> int:
    """How many plotly charts have drawn their plot area."""
    return page.evaluate(CHARTS_DRAWN_JS)


def exception_texts(page) -> list[str]:
    return [e.inner_text()[:2000] for e in page.query_selector_all(EXCEPTION)]


def describe_state(page) -> str:
    try:
        return page.evaluate(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                return JSON.stringify({
                    script: app && app.getAttribute("data-test-script-state"),
                    connection: app && app.getAttribute("data-test-connection-state"),
                    stale: document.querySelectorAll('[data-stale="true"]').length,
                    skeletons: document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]').length,
                    charts: document.querySelectorAll('__CHART__').length,
                    drawn: [...document.querySelectorAll('__CHART__')]
                        .filter((c) => c.querySelector('.main-svg')).length,
                });
            }""".replace("__CHART__", PLOTLY_CHART)
        )
    except Exception as exc:  # the page may be gone; the caller is already failing
        return f"<no state: {exc}>"


def slider_label(page, index: int) -> str:
    """The visible label of the ``index``-th slider (for reports)."""
    return page.evaluate(
        """(i) => {
            const s = document.querySelectorAll('[data-testid="stSlider"]')[i];
            const label = s && s.querySelector('[data-testid="stWidgetLabel"]');
            return label ? label.innerText.trim() : `slider ${i}`;
        }""",
        index,
    )


def slider_count(page) -> int:
    return page.locator(SLIDER_THUMB).count()


def question_sliders(page) -> set[int]:
    """Indices of the sliders that belong to a question (ui.questions: a guess inside its
    form, which reruns nothing until the button, or a locked answer): not lesson controls."""
    return set(page.locator(SLIDER_THUMB).evaluate_all(
        """(thumbs) => thumbs.flatMap((el, i) =>
               el.closest('[class*="_question"]') ? [i] : [])"""))


def slider_value(page, index: int) -> str:
    """The value of the ``index``-th slider thumb (``aria-valuenow`` or the range input's)."""
    return page.locator(SLIDER_THUMB).nth(index).evaluate(
        "(el) => el.getAttribute('aria-valuenow') ?? el.value"
    )


REVEAL_JS = """
(el) => {
  // Mark the tab or expander summary to click for every closed st.tabs panel or st.expander
  // around the element, outermost first. Streamlit 1.67's inactive tab panels are
  // [data-testid=stTabPanel] with display:none, matched to their tab by position.
  const targets = [];
  for (let node = el.parentElement; node; node = node.parentElement) {
    if (node.getAttribute("data-testid") === "stTabPanel" && getComputedStyle(node).display === "none") {
      const tabs = node.closest('[data-testid="stTabs"]');
      const own = (sel) => [...tabs.querySelectorAll(sel)].filter((x) => x.closest('[data-testid="stTabs"]') === tabs);
      const tab = own('[role="tab"]')[own('[data-testid="stTabPanel"]').indexOf(node)];
      if (tab) targets.unshift(tab);
    }
    if (node.tagName === "DETAILS" && !node.open) {
      const summary = node.querySelector(":scope > summary");
      if (summary) targets.unshift(summary);
    }
  }
  document.querySelectorAll("[data-hlm-reveal]").forEach((x) => x.removeAttribute("data-hlm-reveal"));
  targets.forEach((t, i) => t.setAttribute("data-hlm-reveal", String(i)));
  return targets.map((t) => t.innerText.trim());
}
"""


VIEW_TABS_JS = """
() => {
  // The tabs of a lesson's views: st.tabs not nested in another st.tabs or an expander (the
  // statsmodels / lme4 code tabs sit in an expander). Marked data-hlm-view=<index>.
  const tabs = [...document.querySelectorAll('[data-testid="stTabs"]')].filter(
    (t) => !t.parentElement.closest('[data-testid="stTabs"], [data-testid="stExpander"]'));
  if (!tabs.length) return [];
  const own = [...tabs[0].querySelectorAll('[role="tab"]')].filter(
    (x) => x.closest('[data-testid="stTabs"]') === tabs[0]);
  own.forEach((t, i) => t.setAttribute("data-hlm-view", String(i)));
  return own.map((t) => t.innerText.trim());
}
"""


def view_tabs(page) -> list[str]:
    """Labels of the page's lesson views (its top-level tabs), or [] if it has none.

    Pages built with ``show_views`` draw only the open tab, so a slider exists on the page
    only while its tab is open: open each with :func:`open_view` before looking for sliders.
    """
    return page.evaluate(VIEW_TABS_JS)


def open_view(page, index: int, timeout: float = 60.0) -> str:
    """Click the ``index``-th view tab and wait until it is drawn (after its rerun, if the
    tabs are ``show_views`` tabs) and the page is idle; returns its label."""
    labels = view_tabs(page)
    tab = page.locator(f'[data-hlm-view="{index}"]')
    if tab.get_attribute("aria-selected") != "true":
        since = now(page)
        tab.click()
        # A show_views tab reruns the script at once; a plain st.tabs switches in the
        # browser only. The rerun request leaves on the click, so a short wait tells them apart.
        try:
            page.wait_for_function("(s) => window.__hlm.reruns.some((r) => r.t >= s)",
                                   arg=since, timeout=1500)
        except PlaywrightTimeout:
            pass
        else:
            wait_for_rerun(page, since, timeout=timeout)
    wait_for_idle(page, timeout=timeout)
    return labels[index]


def reveal(page, locator) -> list[str]:
    """Make a widget inside a closed ``st.tabs`` tab or ``st.expander`` visible, clicking it
    open as a student would. Returns the labels clicked, outermost first."""
    labels = locator.evaluate(REVEAL_JS)
    for i in range(len(labels)):
        page.locator(f'[data-hlm-reveal="{i}"]').click()
    if labels:
        locator.wait_for(state="visible", timeout=5000)
    return labels


def save_full_page_screenshot(page, path: Path) -> None:
    """The whole page, not just the first screen.

    Streamlit scrolls inside its main container, so Playwright's full_page sees one screen;
    the viewport is made as tall as the content for the shot, then restored.
    """
    height = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll(
                 '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]')]
               .map((el) => el.scrollHeight), document.documentElement.scrollHeight)"""
    )
    original = page.viewport_size
    page.set_viewport_size({"width": original["width"], "height": min(int(height) + 40, 14000)})
    try:
        wait_for_idle(page, timeout=30, settle_ms=300)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(original)
        wait_for_idle(page, timeout=30, settle_ms=100)

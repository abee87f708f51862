"""The one way a page makes a control: bound to the URL, kept for the session, checked first.

Every control a lesson shows (slider, select slider, radio, segmented control, pills,
toggle, selectbox, multiselect, number input, and a lesson's view tabs) is made here, so that

- its value lives in the address bar under a short, stable parameter name, which is the
  control's ``key`` (``bind="query-params"``): a copied or shared URL opens the same view;
  a value equal to the default is left out of the URL;
- its value survives a visit to another tab or page (``persist_state="session"``);
- a value the URL brings is checked *before* Streamlit sees it. Streamlit silently drops
  some bad values but takes others (a whole-number slider given ``2.5`` shows 2, a value
  off the slider's grid is shown as is, a mistyped option list keeps its known part). Here
  a bad value (not a number, out of range, not an option, over :data:`MAX_URL_CHARS`
  characters, Markdown or HTML) gets one short, inert message beside the control, echoing
  at most 40 characters in a code span (:func:`hlmlab.userdata.text.shown`), and the
  default is used; the rest of the URL still applies. A good value in another spelling
  (``ml`` for ``ML``, ``step=4`` for the fourth step, ``schools=1,2`` for a list,
  ``present=1``, a slider value between grid points) is rewritten to the control's own
  spelling. Either way the URL is corrected and the script reruns once, so the widget is
  created from a URL it accepts as it is;
- a slider's value is put on its grid (:class:`hlmlab.panels.SliderRange`), so equal
  settings make equal cache keys;
- the view's URL can be rebuilt from the controls drawn in this run (:func:`view_query`),
  with each value in its shortest spelling, for "share this view" (ui/share.py);
- a lesson's steps (its view tabs, NELS88's step control) are known to the keyboard
  stepper (ui/keys.py) through :func:`steps_of_this_page`.

Keys are URL parameter names and session-state names at once, so they must be unique
across the whole app (tests/app/test_ui_controls.py checks the pages), and short: a page
chooses them (``teachers``, ``per_school``), and keeps them once documented.

Nothing here evaluates URL text, and no URL text reaches Markdown outside a code span.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import streamlit as st
from streamlit.errors import StreamlitAPIException

from hlmlab.panels import SliderRange
from hlmlab.userdata.text import shown

__all__ = [
    "MAX_URL_CHARS", "UrlReading", "in_url", "multiselect", "number_input", "numbered", "pills", "radio",
    "read_choice", "read_choices", "read_flag", "read_number", "segmented_control",
    "select_slider", "selectbox", "slider", "start_run", "steps_of_this_page", "tabs",
    "toggle", "view_query",
]

#: A URL value longer than this (all its repeats together) is refused unread.
MAX_URL_CHARS = 200
_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no")

# Session-state names of this module's own bookkeeping (never a control's key).
_PROBLEMS = "_hlm_url_problems"  # key -> message, shown beside the control after a rerun
_VIEW = "_hlm_view_query"  # key -> its shortest URL text(s), for controls off their default
_STEPS = "_hlm_page_steps"  # the page's stepper: (key, options), for ui/keys.py
_REWRITTEN = "_hlm_url_rewritten"  # keys whose URL value was corrected (once each)
_LAST_TAB = "_hlm_last_tab_"  # + tabs key: the tab open when the page was last drawn
_TABS_DRAWN = "_hlm_tabs_drawn"  # tab bars drawn in this run
_TABS_BEFORE = "_hlm_tabs_before"  # tab bars drawn in the run before


# --------------------------------------------------------------------------- reading the URL


@dataclass(frozen=True)
class UrlReading:
    """What a control makes of its URL parameter.

    Attributes
    ----------
    value : the value asked for, in the control's own terms; None when the default stays.
    url : the text(s) the URL must hold for Streamlit to seed exactly ``value`` (the
        control's own spelling), or None when the parameter must go.
    problem : a message for the student when the value was refused; "" otherwise.
    """

    value: object = None
    url: list[str] | None = None
    problem: str = ""


def _refused(name: str, raw: Sequence[str], why: str, default_text: str) -> UrlReading:
    text = ",".join(raw)
    return UrlReading(problem=f"The link's {shown(name)} value {shown(text)} {why}; "
                              f"showing {default_text} instead.")


def _too_long(raw: Sequence[str]) -> bool:
    return sum(len(part) for part in raw) > MAX_URL_CHARS


def _number_text(value: float) -> str:
    """A number as the URL writes it: ``5``, ``0.35``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read_number(name: str, raw: Sequence[str], grid: SliderRange, default) -> UrlReading:
    """A slider's or number input's URL value: a finite number within the grid's ends, a
    whole one when the grid's step is whole; put on the grid.

    Parameters
    ----------
    name : the URL parameter (for the message).
    raw : its value(s) in the URL; the last one counts, as in Streamlit.
    grid : the control's range and step.
    default : the control's default (for the message).
    """
    default_text = shown(_number_text(default))
    if _too_long(raw):
        return _refused(name, raw, "is too long", default_text)
    whole = isinstance(grid.step, int) and not isinstance(grid.step, bool)
    try:
        number = float(raw[-1].strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return _refused(name, raw[-1:], "is not a number", default_text)
    if whole and not number.is_integer():
        return _refused(name, raw[-1:], "is not a whole number", default_text)
    if not grid.low <= number <= grid.high:
        return _refused(name, raw[-1:], f"is outside {_number_text(grid.low)} to "
                                        f"{_number_text(grid.high)}", default_text)
    value = grid.snap(number)
    return UrlReading(value=value, url=[_number_text(value)])


def _match(text: str, labels: Sequence[str], short: Sequence[str]) -> int | None:
    """The option ``text`` names: its label (any case) or its short name."""
    text = text.strip()
    for names in (labels, short):
        for position, name in enumerate(names):
            if text == name:
                return position
    folded = text.casefold()
    for position, label in enumerate(labels):
        if folded == label.casefold():
            return position
    return None


def read_choice(name: str, raw: Sequence[str], labels: Sequence[str],
                short: Sequence[str] = (), default_text: str = "the first option"
                ) -> UrlReading:
    """A one-of control's URL value: one of ``labels`` (any case) or of ``short``.

    Returns a reading whose value is the option's position.
    """
    if _too_long(raw):
        return _refused(name, raw, "is too long", default_text)
    position = _match(raw[-1], labels, short)
    if position is None:
        return _refused(name, raw[-1:], "is not one of the choices", default_text)
    return UrlReading(value=position, url=[labels[position]])


def read_choices(name: str, raw: Sequence[str], labels: Sequence[str],
                 short: Sequence[str] = (), default_text: str = "the default choice"
                 ) -> UrlReading:
    """A many-of control's URL value: repeated parameters or one comma-separated list, every
    item one of ``labels`` or ``short``. One unknown item refuses the whole list: a
    half-applied selection would show a view nobody shared.

    Returns a reading whose value is the list of positions (in URL order, no repeats).
    """
    if _too_long(raw):
        return _refused(name, raw, "is too long", default_text)
    if all(part == "" for part in raw):  # "?key=": nothing chosen, as Streamlit reads it
        return UrlReading(value=[], url=list(raw))
    # A part that is not a label as a whole is a comma-separated list of them.
    items = [item for part in raw
             for item in ([part] if _match(part, labels, short) is not None else part.split(","))
             if item.strip()]
    positions = [_match(item, labels, short) for item in items]
    if None in positions:
        unknown = items[positions.index(None)]
        return _refused(name, [unknown], "is not one of the choices", default_text)
    positions = list(dict.fromkeys(positions))
    return UrlReading(value=positions, url=[labels[p] for p in positions] or None)


def read_flag(name: str, raw: Sequence[str], default: bool) -> UrlReading:
    """A toggle's URL value: true/false, 1/0, on/off, yes/no (any case)."""
    default_text = shown("1" if default else "0")
    if _too_long(raw):
        return _refused(name, raw, "is too long", default_text)
    word = raw[-1].strip().casefold()
    if word in _TRUE or word in _FALSE:
        value = word in _TRUE
        return UrlReading(value=value, url=["true" if value else "false"])
    return _refused(name, raw[-1:], "is not 1 or 0", default_text)


def numbered(labels: Sequence[str]) -> tuple[str, ...]:
    """Short URL names ``1``, ``2``, ... for options whose labels are numbered steps."""
    return tuple(str(position) for position in range(1, len(labels) + 1))


# --------------------------------------------------------------------------- one control


@dataclass
class _Control:
    """What every wrapper does around its widget: check the URL first, say what was
    refused, remember the value's shortest URL text for sharing."""

    key: str
    read: Callable[[list[str]], UrlReading]
    share_text: Callable[[object], list[str] | None] = field(default=lambda value: None)
    message_slot: object = None

    def check_url(self, where) -> None:
        """Before the widget exists: refuse or respell the URL's value (then rerun once).
        A refusal's message stays beside the control until the student changes it."""
        raw = [] if self.key in st.session_state else st.query_params.get_all(self.key)
        if raw:  # not yet drawn in this session: the URL decides its value
            reading = self.read(raw)
            if reading.problem:
                st.session_state.setdefault(_PROBLEMS, {})[self.key] = reading.problem
            rewritten = st.session_state.setdefault(_REWRITTEN, set())
            # Once per key: a spelling the next run would respell again must not loop.
            if reading.url != raw and self.key not in rewritten and _rewrite(self.key,
                                                                              reading.url):
                rewritten.add(self.key)
                st.rerun()  # Streamlit seeds widgets from the URL the run started with
        # Its place above the control; filled after the widget, if the value is still the
        # default the refusal fell back to.
        self.message_slot = where.empty() if self.key in st.session_state.get(_PROBLEMS, {}) \
            else None

    def remember(self, value, default, in_share_link: bool = True) -> None:
        """After the widget: note its value for :func:`view_query` (nothing when it is the
        default); a value moved off the default ends the refusal's message."""
        problems = st.session_state.get(_PROBLEMS, {})
        if value != default:
            problems.pop(self.key, None)
        elif self.message_slot is not None and self.key in problems:
            self.message_slot.warning(problems[self.key], icon=":material/link:")
        if in_share_link:
            view = st.session_state.setdefault(_VIEW, {})
            view[self.key] = None if value == default else self.share_text(value)


def _rewrite(key: str, url: list[str] | None) -> bool:
    """Put the control's own spelling in the URL (or drop the parameter); False when the
    parameter cannot be changed (already bound to a widget: it then came from the app)."""
    try:
        if url is None:
            del st.query_params[key]
        else:
            st.query_params[key] = url if len(url) > 1 else url[0]
    except StreamlitAPIException:
        return False
    return True


def _labels(options: Sequence, format_func: Callable | None) -> list[str]:
    """The option labels Streamlit writes to the URL."""
    return [str(format_func(o) if format_func else o) for o in options]


def _short_for(labels: Sequence[str], short: Sequence[str]) -> Callable[[int], str]:
    return lambda position: short[position] if short else labels[position]


_BOUND = {"bind": "query-params", "persist_state": "session"}


# --------------------------------------------------------------------------- the wrappers


def slider(label: str, grid: SliderRange, value, *, key: str, where=None, **options):
    """``st.slider`` on ``grid`` (its low, high and step), bound to the URL as ``key``.

    Parameters
    ----------
    label : the label a student reads.
    grid : the slider's ends and step.
    value : its default.
    key : URL parameter and session-state name (short; unique in the app).
    where : a container or column to draw in (default: the current one).
    **options : further ``st.slider`` arguments (``help``, ``disabled``, ``format``...).

    Returns
    -------
    The value, on the grid (:meth:`SliderRange.snap`).
    """
    where = where or st
    control = _Control(key, lambda raw: read_number(key, raw, grid, value),
                       lambda v: [_number_text(v)])
    control.check_url(where)
    chosen = where.slider(label, grid.low, grid.high, value, grid.step, key=key, **_BOUND,
                          **options)
    chosen = grid.snap(chosen)
    control.remember(chosen, value)
    return chosen


def number_input(label: str, grid: SliderRange, value, *, key: str, where=None, **options):
    """``st.number_input`` on ``grid``, bound to the URL as ``key`` (see :func:`slider`)."""
    where = where or st
    control = _Control(key, lambda raw: read_number(key, raw, grid, value),
                       lambda v: [_number_text(v)])
    control.check_url(where)
    chosen = where.number_input(label, grid.low, grid.high, value, grid.step, key=key,
                                **_BOUND, **options)
    chosen = grid.snap(chosen)
    control.remember(chosen, value)
    return chosen


def toggle(label: str, value: bool = False, *, key: str, where=None,
           in_share_link: bool = True, **options) -> bool:
    """``st.toggle`` bound to the URL as ``key``; the URL may say 1/0 (see :func:`slider`).

    Parameters
    ----------
    in_share_link : False for a setting of the viewer rather than of the view (presenter
        mode): the shared link leaves it out.
    """
    where = where or st
    control = _Control(key, lambda raw: read_flag(key, raw, value),
                       lambda v: ["1" if v else "0"])
    control.check_url(where)
    chosen = where.toggle(label, value, key=key, **_BOUND, **options)
    control.remember(chosen, value, in_share_link)
    return chosen


def _one_of(widget: str, label: str, options: Sequence, default_position: int | None, *,
            key: str, where, short: Sequence[str], format_func, steps: bool, **widget_args):
    """The one-of wrappers (radio, selectbox, select slider, single segmented control)."""
    where = where or st
    labels = _labels(options, format_func)
    default_text = shown(labels[default_position]) if default_position is not None else \
        "no choice"
    share = _short_for(labels, short)
    control = _Control(key, lambda raw: read_choice(key, raw, labels, short, default_text),
                       lambda v: None if v is None else [share(list(options).index(v))])
    control.check_url(where)
    if format_func is not None:
        widget_args["format_func"] = format_func
    chosen = getattr(where, widget)(label, options, key=key, **_BOUND, **widget_args)
    default = options[default_position] if default_position is not None else None
    control.remember(chosen, default)
    if steps:
        _register_steps(key, list(options))
    return chosen


def radio(label: str, options: Sequence, index: int = 0, *, key: str, where=None,
          short: Sequence[str] = (), format_func=None, **extra):
    """``st.radio`` bound to the URL as ``key``.

    Parameters
    ----------
    short : optional short URL names, one per option (e.g. ``("0", "1")``), accepted from
        the URL beside the labels and used in shared links.
    (the rest as :func:`slider` and ``st.radio``)
    """
    return _one_of("radio", label, options, index, key=key, where=where, short=short,
                   format_func=format_func, steps=False, index=index, **extra)


def selectbox(label: str, options: Sequence, index: int = 0, *, key: str, where=None,
              short: Sequence[str] = (), format_func=None, **extra):
    """``st.selectbox`` bound to the URL as ``key`` (see :func:`radio`)."""
    return _one_of("selectbox", label, options, index, key=key, where=where, short=short,
                   format_func=format_func, steps=False, index=index, **extra)


def select_slider(label: str, options: Sequence, value, *, key: str, where=None,
                  short: Sequence[str] = (), format_func=None, **extra):
    """``st.select_slider`` bound to the URL as ``key`` (see :func:`radio`)."""
    return _one_of("select_slider", label, options, list(options).index(value), key=key,
                   where=where, short=short, format_func=format_func, steps=False,
                   value=value, **extra)


def segmented_control(label: str, options: Sequence, default, *, key: str, where=None,
                      short: Sequence[str] = (), format_func=None, steps: bool = False,
                      **extra):
    """A one-of ``st.segmented_control`` bound to the URL as ``key`` (see :func:`radio`).

    Parameters
    ----------
    steps : the options are the lesson's steps: the keyboard stepper (presenter mode's
        arrow and page keys) moves through them (ui/keys.py).
    """
    return _one_of("segmented_control", label, options, list(options).index(default),
                   key=key, where=where, short=short, format_func=format_func, steps=steps,
                   default=default, **extra)


def _many_of(widget: str, label: str, options: Sequence, default: Sequence, *, key: str,
             where, short: Sequence[str], format_func, **widget_args) -> list:
    where = where or st
    labels = _labels(options, format_func)
    default = list(default)
    default_text = ("none" if not default else
                    shown(",".join(labels[list(options).index(d)] for d in default)))
    share = _short_for(labels, short)

    def share_text(chosen) -> list[str]:
        texts = [share(list(options).index(v)) for v in chosen]
        if not texts:
            return [""]  # "?key=": nothing chosen
        # One comma-separated parameter is shorter than repeats, unless a name has a comma.
        return texts if any("," in text for text in texts) else [",".join(texts)]

    control = _Control(key, lambda raw: read_choices(key, raw, labels, short, default_text),
                       share_text)
    control.check_url(where)
    if format_func is not None:
        widget_args["format_func"] = format_func
    chosen = getattr(where, widget)(label, options, default=default, key=key, **_BOUND,
                                    **widget_args) or []
    control.remember(list(chosen), default)
    return list(chosen)


def multiselect(label: str, options: Sequence, default: Sequence = (), *, key: str,
                where=None, short: Sequence[str] = (), format_func=None, **extra) -> list:
    """``st.multiselect`` bound to the URL as ``key``; the URL may list the choices with
    commas (``schools=1,2``) or repeat the parameter (see :func:`radio`)."""
    return _many_of("multiselect", label, options, default, key=key, where=where, short=short,
                    format_func=format_func, **extra)


def pills(label: str, options: Sequence, default: Sequence = (), *, key: str, where=None,
          short: Sequence[str] = (), format_func=None, **extra) -> list:
    """A many-of ``st.pills`` bound to the URL as ``key`` (see :func:`multiselect`)."""
    return _many_of("pills", label, options, default, key=key, where=where, short=short,
                    format_func=format_func, selection_mode="multi", **extra)


def tabs(labels: Sequence[str], *, key: str, short: Sequence[str] = ()):
    """A lesson's view tabs (``st.tabs``), bound to the URL as ``key``; the keyboard stepper
    moves through them. The open tab is also remembered for the session: a student coming
    back from another page finds the tab they left (tabs have no ``persist_state``).

    Parameters
    ----------
    labels : the tabs' labels (unique, non-empty).
    key : URL parameter and session-state name.
    short : short URL names, one per tab (default: ``1``, ``2``, ...).

    Returns
    -------
    The tab containers (``.open`` tells the open one).
    """
    short = tuple(short) or numbered(labels)
    read = lambda raw: read_choice(key, raw, labels, short, shown(labels[0]))  # noqa: E731
    control = _Control(key, read, lambda label: [short[list(labels).index(label)]])
    control.check_url(st)
    st.session_state.setdefault(_TABS_DRAWN, set()).add(key)
    if key in st.session_state and key not in st.session_state.get(_TABS_BEFORE, ()):
        # Entering the page (a link, the course map's) with the tab bar's value kept from an
        # earlier visit: the URL's tab wins. Streamlit lets a URL value override a kept one
        # only when it is not the default, so a link to the first tab opened the last one.
        raw = st.query_params.get_all(key)
        reading = read(raw) if raw else UrlReading()
        if reading.value is not None:
            st.session_state[key] = labels[reading.value]
    last = st.session_state.get(_LAST_TAB + key)
    default = last if key not in st.session_state and last in labels else None
    containers = st.tabs(list(labels), key=key, bind="query-params", default=default)
    opened = next((label for label, tab in zip(labels, containers) if tab.open), labels[0])
    st.session_state[_LAST_TAB + key] = opened
    control.remember(opened, labels[0])
    _register_steps(key, list(labels))
    return containers


def in_url(key: str) -> bool:
    """Whether the URL sets the control ``key`` that is still to be drawn (a page may choose
    another control's default by it: a link naming schools opens "Choose schools")."""
    return key not in st.session_state and bool(st.query_params.get_all(key))


# --------------------------------------------------------------------------- the view's URL


def start_run() -> None:
    """Forget the last run's view (app.py calls this before the page runs): the share
    link and the keyboard stepper then know only this run's controls."""
    st.session_state[_VIEW] = {}
    st.session_state.pop(_STEPS, None)
    st.session_state[_TABS_BEFORE] = st.session_state.pop(_TABS_DRAWN, set())


def view_query(state: Mapping | None = None) -> list[tuple[str, str]]:
    """The current view as URL parameters: every control drawn in this run that is off its
    default, each in its shortest spelling, in the order drawn.

    Parameters
    ----------
    state : the session state to read (default: this session's; a test passes its own).
    """
    state = st.session_state if state is None else state
    pairs = []
    for key, texts in (state.get(_VIEW) or {}).items():
        for text in texts or ():
            pairs.append((key, text))
    return pairs


def _register_steps(key: str, options: list) -> None:
    st.session_state[_STEPS] = (key, options)


def steps_of_this_page() -> tuple[str, list] | None:
    """``(key, options)`` of the steps the keyboard moves through on the page drawn last
    (its view tabs or step control; the last one drawn wins), or None."""
    return st.session_state.get(_STEPS)

#!/usr/bin/env python3
"""What each way of showing a table costs the server per rerun, for the NELS88 page's real
tables (the ten schools' school-by-school table, the variance components, the fixed
effects), timed inside a Streamlit script run (AppTest) so each element's own work is
counted: building the display frame from the fit (report.py), converting it (pandas ->
Arrow, or the prepared HTML), and serialising the element's protobuf (what the websocket
then sends).

Ways:

- ``dataframe (built each run)``: the page before panels: report.py frames built, then
  ``st.dataframe`` converts them to Arrow;
- ``dataframe (frame cached)``: the frames kept, ``st.dataframe`` converts them each run;
- ``dataframe (Arrow cached)``: pyarrow Tables kept, ``st.dataframe`` serialises them;
- ``table (frame cached)``: ``st.table`` of the kept frames;
- ``html (prepared)``: ``ui.tables.show_table`` of :class:`hlmlab.tables.DisplayTable` (what
  panels keep: escaped HTML built once per result).

::

    python benchmarks/table_element_cost.py            # ~30 s
    python benchmarks/table_element_cost.py --runs 400
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(runs: int) -> dict:
    """Runs inside a script (AppTest): per way, microseconds per rerun for all three tables
    and the bytes their elements serialise to."""
    import time

    import pyarrow as pa
    import streamlit as st

    from hlmlab import report
    from hlmlab.analyses import nels88_two_schools as nels
    from hlmlab.datasets import NELS88_REPLICA_LABEL, nels88_sources
    from hlmlab.tables import display_table
    from ui.tables import show_table

    path = nels88_sources()[NELS88_REPLICA_LABEL]
    source = nels.DataSource(NELS88_REPLICA_LABEL, str(path), path.stat().st_mtime)
    schools = tuple(sorted(nels.source_school_sizes(source)))
    comparison = nels.fitted_selection(nels.Selection(source, schools, 67, True, True))
    fit = comparison.multilevel

    def frames():
        return (report.group_table(comparison.per_group, fit, comparison.shrinkage),
                report.variance_table(fit)[["shown"]],
                report.fixed_effects_table(fit, comparison.pooled))

    kept = frames()
    arrow = [pa.Table.from_pandas(frame) for frame in kept]
    html = [display_table(frame) for frame in kept]
    ways = {
        "dataframe (built each run)": lambda: [st.dataframe(f) for f in frames()],
        "dataframe (frame cached)": lambda: [st.dataframe(f) for f in kept],
        "dataframe (Arrow cached)": lambda: [st.dataframe(t) for t in arrow],
        "table (frame cached)": lambda: [st.table(f) for f in kept],
        "html (prepared)": lambda: [show_table(t) for t in html],
    }
    results = {}
    for name, draw in ways.items():
        for _ in range(20):  # warm-up
            with st.empty().container():
                draw()
        samples = []
        for _ in range(runs):
            with st.empty().container():
                started = time.perf_counter()
                draw()
                samples.append(time.perf_counter() - started)
        samples.sort()
        results[name] = {"median_us": round(1e6 * samples[len(samples) // 2], 1),
                         "p90_us": round(1e6 * samples[int(len(samples) * 0.9)], 1)}
    st.session_state["results"] = results


def element_bytes() -> dict:
    """Per way, the bytes of one rerun's three elements and the time to serialise them
    (the server does this before the websocket sends them)."""
    import time

    from streamlit.testing.v1 import AppTest

    sizes = {}
    for way, call in (
        ("dataframe", "[st.dataframe(f) for f in frames]"),
        ("table", "[st.table(f) for f in frames]"),
        ("html (prepared)", "[show_table(display_table(f)) for f in frames]"),
    ):
        source = f"""
import streamlit as st
from hlmlab import report
from hlmlab.analyses import nels88_two_schools as nels
from hlmlab.datasets import NELS88_REPLICA_LABEL, nels88_sources
from hlmlab.tables import display_table
from ui.tables import show_table
path = nels88_sources()[NELS88_REPLICA_LABEL]
source = nels.DataSource(NELS88_REPLICA_LABEL, str(path), path.stat().st_mtime)
schools = tuple(sorted(nels.source_school_sizes(source)))
c = nels.fitted_selection(nels.Selection(source, schools, 67, True, True))
frames = (report.group_table(c.per_group, c.multilevel, c.shrinkage),
          report.variance_table(c.multilevel)[["shown"]],
          report.fixed_effects_table(c.multilevel, c.pooled))
{call}
"""
        at = AppTest.from_string(source, default_timeout=120).run()
        kinds = {"dataframe": "dataframe", "table": "table",
                 "html (prepared)": "html"}
        protos = [node.proto for node in at.get(kinds[way])]
        started = time.perf_counter()
        for _ in range(100):
            encoded = [p.SerializeToString() for p in protos]
        sizes[way] = {"bytes": sum(len(e) for e in encoded),
                      "serialise_us": round(1e4 * (time.perf_counter() - started), 1)}
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(measure, kwargs={"runs": args.runs}, default_timeout=600).run()
    if at.exception:
        print(at.exception[0].message, at.exception[0].stack_trace, file=sys.stderr)
        return 1
    results = at.session_state["results"]
    print("| way (three NELS88 tables, ten schools) | median per rerun | p90 |")
    print("|---|---|---|")
    for name, row in results.items():
        print(f"| {name} | {row['median_us'] / 1000:.2f} ms | {row['p90_us'] / 1000:.2f} ms |")
    sizes = element_bytes()
    print("\nserialised per rerun (bytes, microseconds):", sizes)
    out = ROOT / "benchmarks" / "out" / "table_element_cost.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"per_rerun": results, "bytes": sizes}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

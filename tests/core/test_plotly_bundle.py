"""ui.plotly_bundle: the partial plotly.js bundle covers every trace the app draws, is pinned
to the installed plotly's plotly.js, and is installed only when its hashes check out."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from dataclasses import replace

from plotly_traces import FIGURE_SOURCES, REPO, trace_types_in
from ui import plotly_bundle
from ui.plotly_bundle import CARTESIAN


def test_the_scan_finds_each_way_of_making_a_trace():
    source = """
import plotly.graph_objects as go
from plotly import express as px
go.Figure(go.Bar(x=[1]))
figure.add_histogram(x=[1])
figure.add_hline(y=0)                       # a shape, not a trace
{"type": "scatter", "x": [1]}
dict(type="violin")
{"type": "rect"}                            # a shape type
"""
    assert trace_types_in(source) == {"bar", "histogram", "scatter", "violin", "plotly.express"}


def test_every_trace_type_the_app_draws_is_in_the_partial_bundle():
    """plotly.js draws nothing (and says nothing) for a trace type its bundle lacks: a new
    figure type must be in the cartesian bundle, or the pin must change to a bundle that
    has it."""
    used = {}
    for path in FIGURE_SOURCES:
        for trace in trace_types_in(path.read_text(encoding="utf-8")):
            used.setdefault(trace, []).append(str(path.relative_to(REPO)))
    assert {"scatter", "bar", "histogram"} <= set(used), used  # the scan sees the figures
    missing = {trace: files for trace, files in used.items() if trace not in CARTESIAN.traces}
    assert not missing, f"not in {CARTESIAN.spec}: {missing}"


def test_the_pin_is_the_plotly_js_of_the_installed_plotly():
    """The figure JSON follows the schema of the plotly.js that plotly.py was built with; a
    plotly upgrade must come with a new pin (else the app silently serves the full bundle)."""
    assert plotly_bundle.plotly_js_version(plotly_bundle.full_bundle()) == CARTESIAN.version


def fake_package(script: bytes) -> bytes:
    """An npm tarball holding ``package/<script>`` and its LICENSE."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in ((f"package/{CARTESIAN.script}", script),
                              ("package/LICENSE", b"MIT")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def pinned_for(tarball: bytes, script: bytes):
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    return replace(CARTESIAN, integrity=integrity, sha256=hashlib.sha256(script).hexdigest())


def packer(tarball: bytes):
    def pack(spec, folder, timeout):
        assert spec == f"{CARTESIAN.package}@{CARTESIAN.version}"
        path = folder / "package.tgz"
        path.write_bytes(tarball)
        return path
    return pack


def test_fetch_installs_the_bundle_only_when_both_hashes_match(tmp_path, monkeypatch):
    monkeypatch.delenv(plotly_bundle.CHOICE_VARIABLE, raising=False)
    script = b"/**\n* plotly.js (cartesian - minified) v4.1.1\n*/ window.Plotly = {};"
    tarball = fake_package(script)
    bundle = pinned_for(tarball, script)
    static = tmp_path / "static"

    # A tarball that is not the pinned one (another integrity): refused, nothing written.
    message = plotly_bundle.fetch(static, replace(bundle, integrity="sha512-AAAA"),
                                  pack=packer(tarball))
    assert "not installed" in message and "integrity" in message
    assert not static.exists() or not any(static.iterdir())
    assert plotly_bundle.partial_bundle(static, bundle) is None

    # The pinned tarball whose script is not the pinned script: refused too.
    message = plotly_bundle.fetch(static, replace(bundle, sha256="0" * 64), pack=packer(tarball))
    assert "not installed" in message and "SHA-256" in message
    assert plotly_bundle.partial_bundle(static, bundle) is None

    # Both match: installed under its versioned name, and served.
    message = plotly_bundle.fetch(static, bundle, pack=packer(tarball))
    assert "installed" in message and "not installed" not in message
    installed = static / bundle.published_name
    assert installed.read_bytes() == script and installed.name == "plotly-cartesian-4.1.1.min.js"
    assert plotly_bundle.partial_bundle(static, bundle) == installed
    assert "already installed" in plotly_bundle.fetch(static, bundle, pack=packer(b"unused"))

    # Forced to the full bundle, or the file changed on disk: the full bundle is served.
    monkeypatch.setenv(plotly_bundle.CHOICE_VARIABLE, "full")
    assert plotly_bundle.partial_bundle(static, bundle) is None
    monkeypatch.delenv(plotly_bundle.CHOICE_VARIABLE)
    installed.write_bytes(script + b"// edited")
    assert plotly_bundle.partial_bundle(static, bundle) is None


def test_fetch_without_npm_or_network_leaves_the_full_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv(plotly_bundle.CHOICE_VARIABLE, raising=False)
    def no_npm(spec, folder, timeout):
        raise RuntimeError("npm is not installed")

    message = plotly_bundle.fetch(tmp_path, pack=no_npm)
    assert message.startswith("plotly.js partial bundle not installed (npm is not installed)")
    assert list(tmp_path.iterdir()) == []
    # Asked for the full bundle: nothing is fetched at all.
    monkeypatch.setenv(plotly_bundle.CHOICE_VARIABLE, "full")
    assert "not fetched" in plotly_bundle.fetch(tmp_path, pack=no_npm)

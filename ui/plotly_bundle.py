"""Which plotly.js the chart element loads: the cartesian partial bundle when it is installed,
else the full bundle the plotly package ships.

The lessons draw only scatter, bar and histogram traces. plotly.js's cartesian partial bundle
(npm ``plotly.js-cartesian-dist-min``) holds them at 1.50 MB instead of the full bundle's 4.82
MB: a new tab downloads and compiles a third of the code before its first chart. It is not
committed: ``python3 -m ui.plotly_bundle`` (run by scripts/start.sh and scripts/test.sh)
fetches it with ``npm pack``, checks the tarball against the integrity pinned here and the
script against its pinned SHA-256, and writes it into ``static/`` (git-ignored). When npm,
the network or a check fails, nothing is written and the app serves the full bundle as
before (ui/chart.py); nothing at run time needs the network.

The bundle must be the plotly.js version the installed plotly package was built with (the
figure JSON follows that version's schema): :func:`partial_bundle` serves it only then, and a
test fails when a plotly upgrade needs a new pin. This module imports no Streamlit.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CARTESIAN", "PartialBundle", "fetch", "full_bundle", "partial_bundle",
           "plotly_js_version"]

# Where Streamlit serves the app's own files (.streamlit/config.toml: enableStaticServing).
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# HLMLAB_PLOTLY_BUNDLE=full serves the full bundle even when the partial one is installed
# (the fallback's browser test, and before/after measurements).
CHOICE_VARIABLE = "HLMLAB_PLOTLY_BUNDLE"


@dataclass(frozen=True)
class PartialBundle:
    """A plotly.js partial bundle on npm, pinned.

    Parameters
    ----------
    package, version : the npm package and its version (= the plotly.js version).
    script : the minified script inside the package (``package/<script>`` in the tarball).
    integrity : npm's ``sha512-<base64>`` of the tarball (``npm pack --json`` prints it).
    sha256 : hex SHA-256 of the script itself, checked again whenever it is served.
    traces : the trace types the bundle registers (``Plotly.PlotSchema.get().traces``).
    """

    package: str
    version: str
    script: str
    integrity: str
    sha256: str
    traces: frozenset[str]

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def published_name(self) -> str:
        """Its file name under ``static/``: the version in the name, so a browser never runs
        a cached copy of another version."""
        return f"{Path(self.script).name.removesuffix('.min.js')}-{self.version}.min.js"


# plotly 7.1.0 ships plotly.js 4.1.1. The traces: read in Chromium from this very file
# (tests/browser/test_plotly_bundle.py checks them again).
CARTESIAN = PartialBundle(
    package="plotly.js-cartesian-dist-min",
    version="4.1.1",
    script="plotly-cartesian.min.js",
    integrity="sha512-o8GrFeusncwBIxbBynRJpY4pkgVB6caM+JLpwrLYbbsO7dZ8FJ+SVN2Fr+L7kiG/Z6w4P5O0Jus/Qr5EefHVeg==",
    sha256="79542150855a52c567260e3137095dbe2b744e6d702a5cabe67da246942fba7a",
    traces=frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d",
                      "histogram2dcontour", "image", "pie", "scatter", "scatterternary",
                      "violin"}),
)


def full_bundle() -> Path:
    """The full plotly.js that the installed plotly package ships (always there)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_js_version(script: Path) -> str | None:
    """The version in a plotly.js bundle's header comment (``plotly.js ... v4.1.1``)."""
    with open(script, "rb") as file:
        head = file.read(400).decode("utf-8", "replace")
    match = re.search(r"plotly\.js[^\n]*?\bv(\d+\.\d+\.\d+)", head)
    return match.group(1) if match else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _full_chosen() -> bool:
    return os.environ.get(CHOICE_VARIABLE, "").strip().lower() == "full"


@functools.cache
def _full_bundle_version() -> str | None:
    return plotly_js_version(full_bundle())


def partial_bundle(static_dir: Path = STATIC_DIR, bundle: PartialBundle = CARTESIAN
                   ) -> Path | None:
    """The installed partial bundle to serve, or None (then the full bundle is served).

    None when ``$HLMLAB_PLOTLY_BUNDLE`` is ``full``, when the file is missing or not the
    pinned one (SHA-256), or when the installed plotly package was built with another
    plotly.js version than the pin.
    """
    if _full_chosen():
        return None
    path = static_dir / bundle.published_name
    try:
        if not path.is_file() or _sha256(path) != bundle.sha256:
            return None
    except OSError:
        return None
    return path if _full_bundle_version() == bundle.version else None


def _npm_pack(spec: str, destination: Path, timeout: float) -> Path:
    """``npm pack SPEC`` into ``destination``; the tarball's path. Raises OSError,
    subprocess.SubprocessError or RuntimeError when npm cannot give it."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    done = subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(destination)],
                          cwd=destination, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"npm pack failed: {(done.stderr or done.stdout).strip()[-300:]}")
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError("npm pack gave no tarball")
    return tarballs[0]


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def fetch(static_dir: Path = STATIC_DIR, bundle: PartialBundle = CARTESIAN,
          timeout: float = 60.0, pack=_npm_pack) -> str:
    """Install the partial bundle into ``static_dir`` if it is not there; say what happened.

    Never raises for a failed download or check: the app then serves the full bundle.

    Parameters
    ----------
    static_dir : the folder Streamlit serves at ``app/static/``.
    bundle : the pinned bundle.
    timeout : seconds npm may take.
    pack : ``pack(spec, folder, timeout) -> tarball path`` (tests replace npm).

    Returns
    -------
    str
        One line for the install log.
    """
    if _full_chosen():
        return "plotly.js partial bundle: not fetched ($HLMLAB_PLOTLY_BUNDLE=full)"
    if _full_bundle_version() != bundle.version:
        return (f"plotly.js partial bundle: the installed plotly ships plotly.js "
                f"{_full_bundle_version()}, the pin is {bundle.version}; serving the full bundle")
    target = static_dir / bundle.published_name
    if target.is_file() and _sha256(target) == bundle.sha256:
        return f"plotly.js partial bundle: {target.name} already installed"
    try:
        with tempfile.TemporaryDirectory(prefix="hlmlab-plotly-") as folder:
            tarball = pack(bundle.spec, Path(folder), timeout)
            if _integrity(tarball) != bundle.integrity:
                raise RuntimeError(f"{tarball.name} does not match the pinned integrity")
            with tarfile.open(tarball, "r:gz") as archive:
                # Only the one member, read as bytes: nothing in the archive is extracted
                # to a path it names.
                member = archive.extractfile(f"package/{bundle.script}")
                licence = archive.extractfile("package/LICENSE")
                script = member.read() if member else b""
                licence_text = licence.read() if licence else b""
            if hashlib.sha256(script).hexdigest() != bundle.sha256:
                raise RuntimeError(f"{bundle.script} does not match its pinned SHA-256")
            static_dir.mkdir(parents=True, exist_ok=True)
            (static_dir / f"{bundle.package}-{bundle.version}.LICENSE").write_bytes(licence_text)
            partial_copy = target.with_suffix(".part")
            partial_copy.write_bytes(script)
            partial_copy.replace(target)  # atomic: a browser never gets half a file
    except (OSError, subprocess.SubprocessError, tarfile.TarError, RuntimeError, KeyError) as error:
        return (f"plotly.js partial bundle not installed ({error}); the charts use the full "
                f"bundle")
    return f"plotly.js partial bundle: installed {target.name} ({target.stat().st_size / 1e6:.2f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install plotly.js's cartesian partial bundle "
                                                 "into static/ (the full bundle is the fallback).")
    parser.add_argument("--static-dir", type=Path, default=STATIC_DIR)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    print(fetch(args.static_dir, timeout=args.timeout), file=sys.stderr)
    return 0  # a missing partial bundle is not an installation failure


if __name__ == "__main__":
    sys.exit(main())

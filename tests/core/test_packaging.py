"""hlmlab as a library: the package's public names, its wheel, and the README's example.

- The wheel is built here without network or installation (``pip wheel --no-deps
  --no-build-isolation``, with hatchling from requirements-test.txt) and must carry every
  bundled data file and lesson text; unpacked alone on the path, it must find them.
- The dependency ranges of pyproject.toml must start at the exact versions requirements.txt
  pins (the versions the lme4 reference tests were checked against).
- The README's "Use the core from Python" snippet is run as written, and its fit compared with
  lme4 (tests/reference/lme4_reference.csv, case nels88_all_rs_reml: the same model and data).
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import hlmlab

REPO = Path(__file__).resolve().parents[2]


def test_public_names_load_on_first_use_and_import_stays_cheap():
    code = (
        "import sys, hlmlab\n"
        "assert 'statsmodels' not in sys.modules and 'hlmlab.twolevel' not in sys.modules\n"
        "from hlmlab import fit_multilevel, load_nels88\n"
        "from hlmlab.twolevel import fit_multilevel as defined\n"
        "assert fit_multilevel is defined and callable(load_nels88)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    for name in hlmlab.__all__:
        assert getattr(hlmlab, name) is not None, name
    assert set(hlmlab.__all__) <= set(dir(hlmlab))
    with pytest.raises(AttributeError):
        hlmlab.no_such_name  # noqa: B018 (the lookup is the test)
    from hlmlab import datasets  # submodules still import as usual
    assert datasets.load_nels88 is hlmlab.load_nels88


def test_dependency_ranges_start_at_the_tested_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$",
                           (REPO / "requirements.txt").read_text(encoding="utf-8"), re.M))
    ranges = project["dependencies"] + [spec for extra in project["optional-dependencies"].values()
                                        for spec in extra]
    lower = dict(re.match(r"([A-Za-z0-9_.-]+)>=([^,]+),<", spec).groups() for spec in ranges)
    assert lower == pins


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(REPO)],
        cwd=out, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    (built,) = out.glob("hlmlab-*.whl")
    return built


def tracked(folder: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.split()
    return [name for name in listed if (REPO / name).is_file()]


def test_the_wheel_carries_the_data_and_the_lessons(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = tracked("data") + tracked("lessons")
    assert len(bundled) >= 9
    for name in bundled:
        assert f"hlmlab/{name}" in names, name
    assert "hlmlab/twolevel.py" in names and "hlmlab/analyses/jsp_schools.py" in names
    assert not any(name.startswith(("pages/", "tests/", "app.py")) for name in names)


def test_an_unpacked_wheel_finds_its_own_data_and_lessons(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = (
        "import hlmlab\n"
        "from hlmlab import load_jsp, load_lesson, load_nels88, paths\n"
        f"assert paths.DATA_DIR == paths.PACKAGE_DIR / 'data', paths.DATA_DIR\n"
        f"assert str(paths.PACKAGE_DIR).startswith({str(tmp_path / 'site')!r})\n"
        "assert len(load_nels88()) == 260 and load_jsp()['school'].nunique() == 49\n"
        "assert 'step1' in load_lesson('nels88_two_schools')\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                               env={"PYTHONPATH": str(tmp_path / "site")},
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def readme_snippet() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use the core from Python", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    return code


def test_the_readme_snippet_reproduces_the_lesson_s_fit(lme4):
    code = readme_snippet()
    assert len([line for line in code.splitlines() if line.strip()]) <= 6
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(code, namespace)  # the README's own text, as a reader would run it
    fit = namespace["fit"]
    case = "nels88_all_rs_reml"
    assert fit.fixed["homework"] == pytest.approx(lme4(case, "fixef", "homework"), rel=1e-3)
    assert fit.variance["tau11"] == pytest.approx(lme4(case, "tau11"), rel=1e-3)
    assert fit.loglik == pytest.approx(lme4(case, "loglik"), rel=1e-3)
    assert "lmer(math ~ homework + (homework | schid)" in printed.getvalue()

"""scripts/requirements_met.py: start.sh skips pip only when every pin is installed as pinned."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from requirements_met import pins_met  # noqa: E402  (a script beside start.sh)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_met_only_when_every_pin_is_installed_at_its_version(tmp_path):
    pytest_pin = f"pytest=={metadata.version('pytest')}"
    numpy_pin = f"numpy=={metadata.version('numpy')}"
    assert pins_met(write(tmp_path, "ok.txt", f"# a comment\n\n{pytest_pin}  # why\n{numpy_pin}\n"))
    assert not pins_met(write(tmp_path, "old.txt", f"{pytest_pin}\nnumpy==0.0.1\n"))
    assert not pins_met(write(tmp_path, "absent.txt", "no-such-package-hlmlab==1.0\n"))
    # anything but a plain pin is pip's to decide
    assert not pins_met(write(tmp_path, "range.txt", "pytest>=1\n"))
    assert not pins_met(write(tmp_path, "marker.txt", f"{pytest_pin} ; python_version > '3'\n"))
    # includes are followed, as pip does
    write(tmp_path, "base.txt", "numpy==0.0.1\n")
    assert not pins_met(write(tmp_path, "top.txt", f"-r base.txt\n{pytest_pin}\n"))


def test_the_repositorys_own_files_are_plain_pins_the_check_reads():
    """Every line of requirements*.txt is a comment, a -r include or name==version, so the
    check answers for them (here, where the test requirements are installed: met)."""
    for name in ("requirements.txt", "requirements-test.txt"):
        assert pins_met(REPO / name), name
    done = subprocess.run([sys.executable, "scripts/requirements_met.py", "requirements.txt"],
                          cwd=REPO)
    assert done.returncode == 0

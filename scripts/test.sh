#!/usr/bin/env bash
# Install the test extras (Python packages, and Debian's Chromium for the browser tests when
# it is missing), then run every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# pip only when a pin is missing: finding them all installed costs pip 2-3 s of CPU
python3 scripts/requirements_met.py requirements-test.txt ||
  python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
# As scripts/start.sh: the partial plotly.js bundle when npm can fetch it (the browser tests
# then draw every chart with it), the full bundle otherwise. Nothing later needs the network.
python3 -m ui.plotly_bundle --timeout 30 || true
if [ ! -x /usr/lib/chromium/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
fi
# Single-threaded BLAS, as the app runs it (see ui/process.prepare_process).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec python3 -m pytest "$@"

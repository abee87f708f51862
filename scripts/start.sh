#!/usr/bin/env bash
# Install HLM Lab's Python packages and start the app on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
# plotly.js's cartesian partial bundle (a third of the full one) into static/, fetched with
# npm and checked against its pinned hashes; without npm or network the full bundle is used.
python3 -m ui.plotly_bundle --timeout 30 || true
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec python3 -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"

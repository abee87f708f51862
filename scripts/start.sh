#!/usr/bin/env bash
# Install HLM Lab's Python packages and start the app on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec python3 -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"

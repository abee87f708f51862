#!/usr/bin/env bash
# Install HLM Lab's Python packages and start the app on http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec python3 -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"

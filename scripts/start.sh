#!/usr/bin/env bash
# Install HLM Lab's Python packages and start the app on http://localhost:8501.
#
# Extra arguments go to `streamlit run` (e.g. --server.port 8502). The server warms itself:
# scripts/warm_worker.py, started beside it, opens every lesson once as soon as the server
# answers (statsmodels imported, default fits computed and cached), so the students who come
# after find them ready. HLMLAB_WARM=0 skips that; HLMLAB_READY_FILE=F writes F once warm
# (scripts/serve_class.sh's balancer asks for it); HLMLAB_WARM_PAGES lists other pages;
# HLMLAB_INSTALLED=1 skips the installation (the caller did it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${HLMLAB_INSTALLED:-0}" != 1 ]; then  # serve_class.sh installs once for its workers
  # pip only when a pin is missing: finding them all installed costs pip 2-3 s of CPU
  python3 scripts/requirements_met.py requirements.txt ||
    python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
  # plotly.js's cartesian partial bundle (a third of the full one) into static/, fetched with
  # npm and checked against its pinned hashes; without npm or network the full bundle is used.
  python3 -m ui.plotly_bundle --timeout 30 || true
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

port="${STREAMLIT_SERVER_PORT:-8501}"
previous=""
for argument in "$@"; do
  case "$argument" in
    --server.port=*) port="${argument#*=}" ;;
  esac
  [ "$previous" = "--server.port" ] && port="$argument"
  previous="$argument"
done
if [ "${HLMLAB_WARM:-1}" != 0 ]; then
  # $$ is this shell, which becomes the server with `exec` below: the warm-up ends with it.
  # Started from a subshell, so it is not the server's child (the server would never reap it).
  ( python3 scripts/warm_worker.py --port "$port" --parent-pid $$ \
      ${HLMLAB_READY_FILE:+--ready-file "$HLMLAB_READY_FILE"} \
      ${HLMLAB_WARM_PAGES:+--pages "$HLMLAB_WARM_PAGES"} & )
elif [ -n "${HLMLAB_READY_FILE:-}" ]; then
  mkdir -p "$(dirname "$HLMLAB_READY_FILE")"
  echo "not warmed" > "$HLMLAB_READY_FILE"  # ready as soon as it answers (measuring the warm-up)
fi
exec python3 -m streamlit run app.py --server.headless true --browser.gatherUsageStats false "$@"

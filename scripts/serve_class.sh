#!/usr/bin/env bash
# Serve HLM Lab to a lecture hall: N Streamlit worker processes behind HAProxy on one port.
#
#   bash scripts/serve_class.sh                      # one worker per core, http://localhost:8501
#   bash scripts/serve_class.sh --workers 4 --port 8501
#   bash scripts/serve_class.sh --workers-file scripts/workers.conf           # the balancer machine
#   bash scripts/serve_class.sh --workers-file scripts/workers.conf --workers-only   # a worker machine
#
# Each worker is `bash scripts/start.sh --server.port P --server.address A
# --server.fileWatcherType none` (the one-process command, so the same flags, environment and
# warm-up, without the file watcher: see start_worker). A worker receives students only once
# its warm-up (scripts/warm_worker.py, started by start.sh) has opened every lesson on it
# (statsmodels imported, default fits computed) and written static/ready/NAME.txt, which
# HAProxy's health check asks for.
# HAProxy keeps each browser tab on one worker with a cookie it inserts (not by source
# address: a class behind one NAT address still spreads), and sends the students of a dead
# worker to a live one. A worker that dies is started again and warmed before it rejoins.
# Ctrl-C or SIGTERM stops HAProxy and every worker.
#
# Settings (flags win over environment variables):
#   --port / HLMLAB_PORT                  the balancer's port (8501)
#   --bind / HLMLAB_BIND                  the balancer's address ('*': every interface)
#   --workers / HLMLAB_WORKERS            number of local workers when there is no workers file (nproc)
#   --worker-base-port / HLMLAB_WORKER_BASE_PORT   first local worker port (port + 100)
#   --workers-file / HLMLAB_WORKERS_FILE  one host:port a line (# comments); entries whose host
#                                         is this machine are started here, the others are
#                                         only balanced to
#   --workers-only                        start this machine's workers, no balancer
#   --no-warm / HLMLAB_WARM=0             mark workers ready as soon as they serve (no warm-up)
#   HLMLAB_WARM_PAGES                     pages the warm-up opens (scripts/warm_worker.py --pages)
#   --run-dir / HLMLAB_RUN_DIR            logs, pid file, generated haproxy.cfg
#   --config-only                         write RUN_DIR/haproxy.cfg for the worker list, print
#                                         its path and exit (tests use it with their own workers)
#   --install-only                        install HAProxy if it is missing, then exit
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${HLMLAB_PORT:-8501}"
BIND="${HLMLAB_BIND:-*}"
WORKERS="${HLMLAB_WORKERS:-$(nproc)}"
BASE_PORT="${HLMLAB_WORKER_BASE_PORT:-}"
WORKERS_FILE="${HLMLAB_WORKERS_FILE:-}"
WARM="${HLMLAB_WARM:-1}"
RUN_DIR="${HLMLAB_RUN_DIR:-}"
ROLE=all
CONFIG_ONLY=0
INSTALL_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --bind) BIND="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --worker-base-port) BASE_PORT="$2"; shift 2 ;;
    --workers-file) WORKERS_FILE="$2"; shift 2 ;;
    --workers-only) ROLE=workers; shift ;;
    --no-warm) WARM=0; shift ;;
    --run-dir) RUN_DIR="$2"; shift 2 ;;
    --config-only) CONFIG_ONLY=1; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve_class.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
BASE_PORT="${BASE_PORT:-$((PORT + 100))}"
RUN_DIR="${RUN_DIR:-${TMPDIR:-/tmp}/hlmlab-class-$PORT}"
log() { echo "serve_class: $*" >&2; }

if [ "$CONFIG_ONLY" = 0 ]; then
  if [ "$ROLE" = all ] && ! command -v haproxy >/dev/null 2>&1; then
    log "installing Debian's haproxy"
    if [ "$(id -u)" -eq 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
    fi
  fi
  [ "$INSTALL_ONLY" = 1 ] && exit 0
fi
mkdir -p "$RUN_DIR" static/ready

# ------------------------------------------------------------------ the worker list
ENTRIES=()
if [ -n "$WORKERS_FILE" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%%#*}"; line="${line//[[:space:]]/}"
    [ -n "$line" ] && ENTRIES+=("$line")
  done < "$WORKERS_FILE"
else
  for ((i = 0; i < WORKERS; i++)); do ENTRIES+=("127.0.0.1:$((BASE_PORT + i))"); done
fi
[ "${#ENTRIES[@]}" -gt 0 ] || { log "no workers listed"; exit 2; }

LOCAL_ADDRESSES=" 127.0.0.1 localhost ::1 $(hostname 2>/dev/null || true) $(hostname -f 2>/dev/null || true) $(hostname -I 2>/dev/null || true) "
is_local() { [[ "$1" == 127.* ]] || [[ "$LOCAL_ADDRESSES" == *" $1 "* ]]; }
server_name() { local entry="$1"; entry="${entry//:/_}"; echo "${entry//[^A-Za-z0-9._-]/_}"; }

# HAProxy's admin socket (a unix socket path is limited to about 100 bytes)
SOCKET="$RUN_DIR/haproxy.sock"
[ "${#SOCKET}" -le 96 ] || SOCKET="${TMPDIR:-/tmp}/hlmlab-haproxy-$PORT.sock"

write_haproxy_config() {  # the template with this worker list; prints the file's path
  local servers="" entry name config="$RUN_DIR/haproxy.cfg"
  for entry in "${ENTRIES[@]}"; do
    name="$(server_name "$entry")"
    servers+="    server $name $entry cookie $name"$'\n'
  done
  sed -e "s|@SOCKET@|$SOCKET|g" -e "s|@BIND@|$BIND|g" -e "s|@PORT@|$PORT|g" \
      scripts/haproxy.cfg.template \
    | awk -v servers="$servers" '/^@SERVERS@$/ {printf "%s", servers; next} {print}' > "$config"
  echo "$config"
}
if [ "$CONFIG_ONLY" = 1 ]; then
  write_haproxy_config
  exit 0
fi

rm -f "$RUN_DIR/ready"
# Once here, for the workers (concurrent pip installs into one environment can collide): their
# start.sh skips it (HLMLAB_INSTALLED=1), the partial plotly.js bundle included.
# pip only when a pin is missing: finding them all installed costs pip 2-3 s of CPU
python3 scripts/requirements_met.py requirements.txt ||
  python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
python3 -m ui.plotly_bundle --timeout 30 || true

# ------------------------------------------------------------------ processes
declare -A WORKER_PID=()
declare -A RESTARTED=()  # workers started again and kept out of the balancer until warm
HAPROXY_PID=""
STOPPING=0

write_pid_file() {
  local pids=() name  # local: bash's dynamic scope would hand the loop's last name to the caller
  for name in "${!WORKER_PID[@]}"; do pids+=("${WORKER_PID[$name]}"); done
  printf '%s\n' "${pids[@]}" > "$RUN_DIR/workers.pids.tmp"
  mv "$RUN_DIR/workers.pids.tmp" "$RUN_DIR/workers.pids"
}

start_worker() {  # start_worker HOST PORT
  local host="$1" port="$2" name address
  name="$(server_name "$host:$port")"
  rm -f "static/ready/$name.txt"   # a (re)started worker is cold until warmed
  address="127.0.0.1"
  [[ "$host" == 127.* || "$host" == localhost ]] || address="0.0.0.0"  # reachable by the balancer
  # No source file watcher on a lecture server: after each new session's first run it scans
  # every module in sys.modules on the event loop (about 0.2 s of CPU per new tab, while no
  # other tab is answered); 30 tabs opened in 15 s waited 4.1 s (p50) with it, 0.1 s without.
  # start.sh warms its server itself (scripts/warm_worker.py, the one warm-up of every
  # server) and, given HLMLAB_READY_FILE, writes the file the balancer's health check asks for.
  local warm_flag=1
  [ "$WARM" = 1 ] || warm_flag=0  # readiness = the worker answers at all (measuring the warm-up)
  HLMLAB_WARM="$warm_flag" HLMLAB_READY_FILE="static/ready/$name.txt" HLMLAB_INSTALLED=1 \
    bash scripts/start.sh --server.port "$port" --server.address "$address" \
    --server.fileWatcherType none >> "$RUN_DIR/worker-$port.log" 2>&1 &
  WORKER_PID[$name]=$!
  write_pid_file
  log "worker $name: pid ${WORKER_PID[$name]}, log $RUN_DIR/worker-$port.log"
}

haproxy_command() {  # haproxy_command "CMD": one command on HAProxy's admin socket
  [ -n "$HAPROXY_PID" ] || return 0  # no balancer here (--workers-only)
  python3 - "$SOCKET" "$1" <<'PY' || log "HAProxy did not take: $1"
import socket, sys
with socket.socket(socket.AF_UNIX) as admin:
    admin.settimeout(5)
    admin.connect(sys.argv[1])
    admin.sendall(sys.argv[2].encode() + b"\n")
    answer = b"".join(iter(lambda: admin.recv(4096), b"")).decode().strip()
sys.exit(1 if answer else 0)  # HAProxy answers these commands with nothing when they work
PY
}

stop_all() {
  STOPPING=1
  trap - INT TERM
  local pids=() pid
  [ -n "$HAPROXY_PID" ] && pids+=("$HAPROXY_PID")
  for name in "${!WORKER_PID[@]}"; do pids+=("${WORKER_PID[$name]}"); done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for name in "${!WORKER_PID[@]}"; do rm -f "static/ready/$name.txt"; done
  rm -f "$RUN_DIR/ready" "$RUN_DIR/workers.pids"
  log "stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'if [ "$STOPPING" = 0 ]; then stop_all; fi' EXIT

declare -A LOCAL_ENTRY=()
for entry in "${ENTRIES[@]}"; do
  host="${entry%:*}"; port="${entry##*:}"
  if is_local "$host"; then
    LOCAL_ENTRY[$(server_name "$entry")]="$entry"
    start_worker "$host" "$port"
  fi
done
[ "$ROLE" = workers ] && [ "${#LOCAL_ENTRY[@]}" -eq 0 ] && { log "no entry of $WORKERS_FILE is this machine"; exit 2; }

started=$SECONDS
for name in "${!LOCAL_ENTRY[@]}"; do  # each worker's own warm-up writes its ready file
  until [ -f "static/ready/$name.txt" ]; do
    if ! kill -0 "${WORKER_PID[$name]}" 2>/dev/null; then log "worker $name: exited while warming"; break; fi
    if [ $((SECONDS - started)) -gt 300 ]; then log "worker $name: not warm after 300 s"; break; fi
    sleep 0.2
  done
done
log "local workers warm after $((SECONDS - started)) s"

# ------------------------------------------------------------------ the balancer
if [ "$ROLE" = all ]; then
  config="$(write_haproxy_config)"
  haproxy -c -f "$config" > /dev/null
  haproxy -db -f "$config" >> "$RUN_DIR/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  echo "$HAPROXY_PID" > "$RUN_DIR/haproxy.pid"
  for _ in $(seq 100); do [ -S "$SOCKET" ] && break; sleep 0.1; done
  kill -0 "$HAPROXY_PID" 2>/dev/null || { log "HAProxy failed to start: see $RUN_DIR/haproxy.log"; exit 1; }
  log "HAProxy (pid $HAPROXY_PID) on ${BIND}:$PORT -> ${ENTRIES[*]}; config $config, admin socket $SOCKET"
  echo "  HLM Lab for a lecture hall: http://localhost:$PORT" >&2
fi
touch "$RUN_DIR/ready"

# ------------------------------------------------------------------ keep it running
while true; do
  sleep 1
  if [ -n "$HAPROXY_PID" ] && ! kill -0 "$HAPROXY_PID" 2>/dev/null; then
    log "HAProxy exited; stopping"
    exit 1
  fi
  for name in "${!LOCAL_ENTRY[@]}"; do
    if ! kill -0 "${WORKER_PID[$name]}" 2>/dev/null; then
      wait "${WORKER_PID[$name]}" 2>/dev/null || true
      entry="${LOCAL_ENTRY[$name]}"
      log "worker $name exited; starting it again (it rejoins once warm)"
      # Out of the balancer at once, until its ready file says it is warm: the health
      # checks need 2-4 s to notice a dead worker, and a restarted worker can be answering,
      # cold, by then (or even warm, on a machine whose result cache is full).
      haproxy_command "set server streamlit_workers/$name state maint"
      RESTARTED[$name]=1
      start_worker "${entry%:*}" "${entry##*:}"
    elif [ -n "${RESTARTED[$name]:-}" ] && [ -f "static/ready/$name.txt" ]; then
      haproxy_command "set server streamlit_workers/$name state ready"  # checks decide again
      unset "RESTARTED[$name]"
      log "worker $name is warm again"
    fi
  done
done

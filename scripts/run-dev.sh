#!/usr/bin/env bash
# make run: the engine on this machine, from a fresh clone, with nothing but Python 3.11+.
#
# 1. creates backend/.venv and installs the backend (again only when requirements change);
# 2. when no broker is configured (REDIS_URL, CELERY_BROKER_URL or EMBEDDED_BROKER, neither in
#    the environment nor in backend/.env), writes EMBEDDED_BROKER=true to backend/.env and says
#    so: SQLite database, kombu's filesystem broker and SQLite results, all under backend/var,
#    found by every tool started later (CLI, celery inspect, health-check.sh) without setting
#    anything; otherwise uses the settings as given (Redis, and DATABASE_URL if set);
# 3. migrates the database (`residency-scheduler migrate`) and loads the demo program only when
#    the database holds no one yet, so a second `make run` keeps the data entered;
# 4. adds a demo coordinator and a demo program director when missing and makes each a new
#    sign-in token (revoking the ones an earlier `make run` made);
# 5. starts a Celery worker (queues default, resilience, notifications), beat and the HTTP API
#    with the dashboard (uvicorn on API_HOST:API_PORT), prints where everything is and the
#    tokens, and on Ctrl-C stops all three and waits for them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
VENV="$BACKEND/.venv"
PY="$VENV/bin/python"

"$ROOT/scripts/ensure-venv.sh" runtime
cd "$BACKEND"

if "$PY" -c 'import sys; from app.core.config import remember_embedded_broker as r; sys.exit(not r())'
then
  echo "==> no REDIS_URL configured: wrote EMBEDDED_BROKER=true to backend/.env (embedded broker"
  echo "    for every tool; set REDIS_URL there to use Redis instead)"
fi

# Where things are, as the settings see them: files and folders for what lives on this disk
# (the embedded SQLite database, broker folders and results), else the URL (passwords masked).
eval "$("$PY" - <<'PY'
import shlex
from app.core.celery_app import celery_app
from app.core.config import get_settings
from app.core.logging import mask_secrets
s = get_settings()

def where(url: str) -> str:
    for prefix in ("sqlite:///", "db+sqlite:///"):
        if url.startswith(prefix):
            return "file " + url.removeprefix(prefix)
    return mask_secrets(url)

broker = mask_secrets(s.broker_url)
if s.broker_url.startswith("filesystem://"):
    folders = celery_app.conf.broker_transport_options
    broker = (f"messages in {folders['data_folder_in']}, processed in"
              f" {folders['processed_folder']}, control in {folders['control_folder']}")
for name, value in {
    "DATA_DIR": s.DATA_DIR,
    "SHOWN_DATABASE": where(s.database_url),
    "SHOWN_BROKER": broker,
    "SHOWN_RESULTS": where(s.result_backend),
    "SHOWN_METRICS_PORT": s.METRICS_PORT,
    "SHOWN_QUEUES": ",".join(s.queues),
    "SHOWN_LOG_LEVEL": s.CELERY_LOG_LEVEL,
    "SHOWN_EMBEDDED": str(s.EMBEDDED_BROKER and not s.CELERY_BROKER_URL).lower(),
    "API_HOST": s.API_HOST,
    "API_PORT": s.API_PORT,
}.items():
    print(f"{name}={shlex.quote(str(value))}")
PY
)"
LOG_DIR="$DATA_DIR/log"
RUN_DIR="$DATA_DIR/run"
# Owner-only: the data folder holds the database with private absence reasons.
(umask 077 && mkdir -p "$LOG_DIR" "$RUN_DIR")

echo "==> migrating the database"
"$VENV/bin/residency-scheduler" migrate

PEOPLE="$("$PY" - <<'PY'
from sqlalchemy import text
from app.core.db import get_engine
with get_engine().connect() as conn:
    print(conn.execute(text("SELECT COUNT(*) FROM person")).scalar_one())
PY
)"
if [[ "$PEOPLE" == "0" ]]; then
  echo "==> the database is empty: loading the demo program"
  "$VENV/bin/residency-scheduler" demo-data
fi

TOKENS="$("$PY" -m app.demo.users)"

PIDS=()
STOP_GRACE_S="${STOP_GRACE_S:-30}"
# shellcheck disable=SC2317  # called by the trap, not inline
stop_all() {
  trap - INT TERM EXIT
  if ((${#PIDS[@]})); then
    echo
    echo "==> stopping worker, beat and API"
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    # A Celery worker whose pool children were killed by the same signal (a TERM sent to the
    # whole process group: timeout, a service manager) can hang in its warm shutdown: give
    # them STOP_GRACE_S, then kill what is left, so that `make run` always ends.
    local waited=0 alive
    while :; do
      alive=()
      for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      ((${#alive[@]} == 0 || waited >= STOP_GRACE_S * 2)) && break
      sleep 0.5
      waited=$((waited + 1))
    done
    if ((${#alive[@]})); then
      echo "==> still running after ${STOP_GRACE_S} s: killing pid(s) ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
    fi
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/worker.pid" "$RUN_DIR/beat.pid"
  echo "==> stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

"$VENV/bin/celery" -A app.core.celery_app worker -Q "$SHOWN_QUEUES" -l "$SHOWN_LOG_LEVEL" \
  -n "worker@%h" --pidfile "$RUN_DIR/worker.pid" >>"$LOG_DIR/worker.log" 2>&1 &
PIDS+=($!)
"$VENV/bin/celery" -A app.core.celery_app beat -l "$SHOWN_LOG_LEVEL" \
  -s "$DATA_DIR/celerybeat-schedule" --pidfile "$RUN_DIR/beat.pid" >>"$LOG_DIR/beat.log" 2>&1 &
PIDS+=($!)
"$VENV/bin/uvicorn" app.main:app --host "$API_HOST" --port "$API_PORT" \
  >>"$LOG_DIR/api.log" 2>&1 &
PIDS+=($!)

MODE="Redis broker"
[[ "$SHOWN_EMBEDDED" == "true" ]] && MODE="embedded (no servers)"
METRICS="worker http://localhost:$SHOWN_METRICS_PORT/metrics (its files in $DATA_DIR/prometheus)"
[[ "$SHOWN_METRICS_PORT" == "0" ]] && METRICS="worker off (METRICS_PORT=0)"
METRICS="$METRICS, API http://$API_HOST:$API_PORT/metrics"
cat <<INFO

Residency Scheduler is running — $MODE
  database   $SHOWN_DATABASE
  broker     $SHOWN_BROKER
  results    $SHOWN_RESULTS
  logs       $LOG_DIR
  worker     pid ${PIDS[0]}, queues $SHOWN_QUEUES, log $LOG_DIR/worker.log
  beat       pid ${PIDS[1]}, schedule $DATA_DIR/celerybeat-schedule, log $LOG_DIR/beat.log
  metrics    $METRICS
  API        pid ${PIDS[2]}, http://$API_HOST:$API_PORT/docs, log $LOG_DIR/api.log
  dashboard  http://$API_HOST:$API_PORT/  sign in with one of these tokens (new each run):
$(while IFS=$'\t' read -r name role token; do printf '    %-17s %-17s %s\n' "$name" "$role" "$token"; done <<<"$TOKENS")
  command line (in another terminal):
    cd backend && .venv/bin/residency-scheduler analyze health
    cd backend && .venv/bin/celery -A app.core.celery_app inspect ping
Press Ctrl-C to stop.
INFO

# Return when any process ends (so a crash is noticed), then stop the others.
set +e
wait -n "${PIDS[@]}"
STATUS=$?
set -e
if ((STATUS != 0)); then
  echo "the worker, beat or the API exited with status $STATUS; see $LOG_DIR" >&2
fi
exit "$STATUS"

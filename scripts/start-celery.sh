#!/usr/bin/env bash
# Start the Celery worker, beat, or both, in the foreground, after checking the broker and the
# database answer.
#
#   cd backend && ../scripts/start-celery.sh [both|worker|beat]     (default: both)
#
# Environment (each also read from backend/.env by the settings):
#   CELERY_LOG_LEVEL            info
#   CELERY_WORKER_CONCURRENCY   4
#   CELERY_QUEUES               default,resilience,notifications
#   CELERY_MAX_TASKS_PER_CHILD  1000
# PID files go to DATA_DIR/run (backend/var/run), logs to standard output. SIGINT or SIGTERM
# stops the processes gracefully: the worker finishes its running tasks first.
set -euo pipefail

MODE="${1:-both}"
case "$MODE" in
  both|worker|beat) ;;
  -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "usage: $0 [both|worker|beat]" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
cd "$BACKEND"
if [[ -x .venv/bin/python ]]; then
  PY=.venv/bin/python
else
  PY="${PYTHON:-python3}"  # e.g. the Docker image, where the backend is installed system-wide
fi

# Read the settings once (so .env and defaults apply exactly as in the worker).
eval "$("$PY" - <<'PY'
import shlex
from app.core.config import get_settings
s = get_settings()
for name, value in {
    "DATA_DIR": s.DATA_DIR,
    "LOG_LEVEL": s.CELERY_LOG_LEVEL,
    "CONCURRENCY": s.CELERY_WORKER_CONCURRENCY,
    "QUEUES": ",".join(s.queues),
    "MAX_TASKS_PER_CHILD": s.CELERY_MAX_TASKS_PER_CHILD,
}.items():
    print(f"{name}={shlex.quote(str(value))}")
PY
)"
RUN_DIR="$DATA_DIR/run"
mkdir -p "$RUN_DIR"

# Each check prints one line: what it reached, or the exception that stopped it (a missing
# module is named as such, not reported as a broker that does not answer).
check() {  # check WHAT PROBE-ARGS...
  local what="$1" out
  shift
  echo "==> checking the $what"
  if out="$("$PY" -m app.core.probe "$@" 2>&1)"; then
    echo "    $what ok: $out"
  else
    echo "error: $what check failed: $out" >&2
    exit 1
  fi
}
check broker broker --retries 3
check database database

PIDS=()
# shellcheck disable=SC2317  # called by the trap, not inline
stop() {
  trap - INT TERM
  echo "==> stopping (${PIDS[*]})"
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  rm -f "$RUN_DIR/worker.pid" "$RUN_DIR/beat.pid"
  exit 0
}
trap stop INT TERM

if [[ "$MODE" == worker || "$MODE" == both ]]; then
  "$PY" -m celery -A app.core.celery_app worker -l "$LOG_LEVEL" -Q "$QUEUES" \
    -c "$CONCURRENCY" --max-tasks-per-child "$MAX_TASKS_PER_CHILD" \
    --pidfile "$RUN_DIR/worker.pid" &
  PIDS+=($!)
fi
if [[ "$MODE" == beat || "$MODE" == both ]]; then
  "$PY" -m celery -A app.core.celery_app beat -l "$LOG_LEVEL" \
    -s "$DATA_DIR/celerybeat-schedule" --pidfile "$RUN_DIR/beat.pid" &
  PIDS+=($!)
fi

# Stop everything as soon as one process ends, and report its status.
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
trap - INT TERM
kill -TERM "${PIDS[@]}" 2>/dev/null || true
wait "${PIDS[@]}" 2>/dev/null || true
exit "$status"

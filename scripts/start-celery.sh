#!/usr/bin/env bash
# Start the Celery worker, beat, or both, in the foreground: check that the broker and the
# database really answer (with the configured URLs), bring the schema up to date, then
# supervise the processes until a signal or until one of them ends.
#
#   cd backend && ../scripts/start-celery.sh [both|worker|beat]     (default: both)
#
# Environment (each also read from backend/.env by the settings):
#   CELERY_LOG_LEVEL            info
#   CELERY_WORKER_CONCURRENCY   4
#   CELERY_QUEUES               default,resilience,notifications
#   CELERY_MAX_TASKS_PER_CHILD  1000
# PID files go to DATA_DIR/run (backend/var/run); a PID file held by a live process stops the
# start (two workers or beats from one checkout). Logs go to standard output. SIGINT or SIGTERM
# stops everything gracefully: the worker finishes its running tasks first (warm shutdown).
#
# Exit codes: 0 stopped by SIGINT/SIGTERM; 1 the broker or database check, or the migration,
# failed; 2 bad usage; 3 already running (live PID file); otherwise the exit status of the
# process that ended first (the others are then stopped).
set -euo pipefail

MODE="${1:-both}"
case "$MODE" in
  both|worker|beat) ;;
  -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
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
SETTINGS="$("$PY" - <<'PY'
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
)" || { echo "error: cannot read the settings (see above)" >&2; exit 1; }
eval "$SETTINGS"
RUN_DIR="$DATA_DIR/run"
mkdir -p "$RUN_DIR"
chmod 700 "$RUN_DIR" 2>/dev/null || true

ROLES=()
[[ "$MODE" == beat ]] || ROLES+=(worker)
[[ "$MODE" == worker ]] || ROLES+=(beat)

# Refuse to start a second worker or beat: a PID file whose process is alive wins. A stale one
# (its process gone, e.g. after a SIGKILL or a reboot) is removed.
for role in "${ROLES[@]}"; do
  pidfile="$RUN_DIR/$role.pid"
  [[ -f "$pidfile" ]] || continue
  pid="$(tr -dc '0-9' < "$pidfile")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    echo "error: the $role is already running (PID $pid, $pidfile); stop it first" >&2
    exit 3
  fi
  echo "==> removing the stale PID file $pidfile (PID ${pid:-none} is not running)"
  rm -f "$pidfile"
done

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

echo "==> migrating the database schema"
if ! "$PY" -m app.cli migrate; then
  echo "error: the migration failed (see above); nothing was started" >&2
  exit 1
fi

PIDS=()
# shellcheck disable=SC2317  # called by the trap, not inline
stop() {
  trap - INT TERM
  echo "==> stopping (${PIDS[*]}): running tasks finish first"
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  wait "${PIDS[@]}" 2>/dev/null || true
  rm -f "$RUN_DIR/worker.pid" "$RUN_DIR/beat.pid"
  echo "==> stopped"
  exit 0
}
trap stop INT TERM

for role in "${ROLES[@]}"; do
  if [[ "$role" == worker ]]; then
    "$PY" -m celery -A app.core.celery_app worker -l "$LOG_LEVEL" -Q "$QUEUES" \
      -c "$CONCURRENCY" --max-tasks-per-child "$MAX_TASKS_PER_CHILD" \
      --pidfile "$RUN_DIR/worker.pid" &
  else
    "$PY" -m celery -A app.core.celery_app beat -l "$LOG_LEVEL" \
      -s "$DATA_DIR/celerybeat-schedule" --pidfile "$RUN_DIR/beat.pid" &
  fi
  PIDS+=($!)
  echo "==> started the $role (PID $!)"
done

# Stop everything as soon as one process ends, and report its status.
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
trap - INT TERM
echo "error: a process ended (status $status); stopping the others" >&2
kill -TERM "${PIDS[@]}" 2>/dev/null || true
wait "${PIDS[@]}" 2>/dev/null || true
rm -f "$RUN_DIR/worker.pid" "$RUN_DIR/beat.pid"
exit "$status"

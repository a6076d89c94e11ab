#!/usr/bin/env bash
# Check the services the engine needs and say whether the whole is healthy.
#
#   scripts/health-check.sh [--docker] [--verbose]
#
# Checks: database (PostgreSQL, or the SQLite file in embedded mode) and its schema (at the
# code's Alembic head), broker (Redis, or the filesystem folders in embedded mode), Celery
# workers (a real `celery inspect ping`), Celery beat (a health check sent by beat finished less
# than 2 x 15 min ago, however beat was started, and, in embedded mode, beat's heartbeat file
# written by a live process within 60 s, so a stopped beat shows at once; in Docker, checked
# inside the worker's container), the backend API (API_URL/health) and the dashboard
# (API_URL/; API_URL empty: http://localhost:API_PORT); in Docker, checked inside the API's
# container (compose service `backend`, API_URL http://backend:8000). The API
# and the dashboard show "not deployed" (not a failure) in a checkout without their code
# (python -m app.core.probe api|dashboard looks for app.main and app.web).
#
# Exit codes: 0 healthy; 1 degraded (beat, the API or the dashboard is down: sent tasks still
# run but nothing periodic happens, or nobody sees it); 2 unhealthy (database down or its
# schema not at head, broker down, or no worker answers).
set -uo pipefail

DOCKER=false
VERBOSE=false
while (($#)); do
  case "$1" in
    --docker) DOCKER=true ;;
    --verbose|-v) VERBOSE=true ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
PY="$BACKEND/.venv/bin/python"
[[ -x "$PY" ]] || PY="${PYTHON:-python3}"

FAILED_CORE=0
FAILED_OPTIONAL=0
report() {  # report NAME ok|fail|skip CORE(yes/no) DETAIL
  local name="$1" state="$2" core="$3" detail="$4" mark
  case "$state" in
    ok) mark="OK  " ;;
    skip) mark="--  " ;;
    *) mark="FAIL"; if [[ "$core" == yes ]]; then FAILED_CORE=$((FAILED_CORE + 1)); else FAILED_OPTIONAL=$((FAILED_OPTIONAL + 1)); fi ;;
  esac
  printf '[%s] %-14s %s\n' "$mark" "$name" "$( [[ "$VERBOSE" == true || "$state" != ok ]] && echo "$detail")"
}
run() {  # run CMD...: output captured in $OUT, status returned
  OUT="$(timeout 30 "$@" 2>&1)"
}
probe() {  # probe NAME yes|no|deployable CMD...: exit 0 ok, anything else a failure...
  local name="$1" core="$2" status
  shift 2
  run "$@"
  status=$?
  if ((status == 0)); then
    report "$name" ok "$core" "$OUT"
  elif [[ "$core" == deployable && $status -eq 3 ]]; then
    report "$name" skip no "$OUT"  # ...except 3 from the API/dashboard probe: not deployed
  else
    report "$name" fail "$core" "$OUT"
  fi
}

if [[ "$DOCKER" == true ]]; then
  DC=(docker compose -f "$ROOT/docker-compose.yml")
  IN=("${DC[@]}" exec -T celery-worker)  # judged with the worker's settings
  probe PostgreSQL yes "${DC[@]}" exec -T db pg_isready -U postgres
  probe Redis yes "${DC[@]}" exec -T redis sh -c 'redis-cli ping | grep -q PONG'
  probe "Celery worker" yes "${IN[@]}" celery -A app.core.celery_app inspect ping -t 5
  probe Schema yes "${IN[@]}" python -m app.core.probe schema
  probe "Celery beat" no "${IN[@]}" python -m app.core.probe beat
  API=("${DC[@]}" exec -T backend)  # the API's service: it answers there or not at all
  probe "Backend API" deployable "${API[@]}" python -m app.core.probe api
  probe Dashboard deployable "${API[@]}" python -m app.core.probe dashboard
else
  cd "$BACKEND" || exit 2
  if run "$PY" -m app.core.probe database; then
    report Database ok yes "$OUT"
    # A database behind the code's migrations breaks every task that touches a changed table.
    probe Schema yes "$PY" -m app.core.probe schema
  else
    report Database fail yes "$OUT"
  fi
  probe Broker yes "$PY" -m app.core.probe broker
  probe "Celery worker" yes "$PY" -m celery -A app.core.celery_app inspect ping -t 5
  # Beat is judged by what it did (however it was started): the newest health check it sent.
  probe "Celery beat" no "$PY" -m app.core.probe beat
  probe "Backend API" deployable "$PY" -m app.core.probe api
  probe Dashboard deployable "$PY" -m app.core.probe dashboard
fi

if ((FAILED_CORE)); then echo "UNHEALTHY"; exit 2; fi
if ((FAILED_OPTIONAL)); then echo "DEGRADED"; exit 1; fi
echo "HEALTHY"
exit 0

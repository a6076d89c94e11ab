#!/usr/bin/env bash
# Check the services the engine needs and say whether the whole is healthy.
#
#   scripts/health-check.sh [--docker] [--verbose] [--api [URL]]
#
# Checks: database (PostgreSQL, or the SQLite file in embedded mode) and its schema (at the
# code's Alembic head), broker (Redis, or the filesystem folders in embedded mode), Celery
# worker (`celery inspect ping`) and Celery beat (a health check sent by beat finished less than
# 2 x 15 min ago, however beat was started; in Docker, checked inside the worker's container).
# The HTTP API and dashboard (uvicorn app.main:app; `make run` starts them) are checked only
# with --api (default URL http://localhost:8000/health).
#
# Exit codes: 0 healthy; 1 degraded (beat, or the API when asked for, is down: sent tasks still
# run but nothing periodic happens); 2 unhealthy (database down or its schema not at head,
# broker or worker down).
set -uo pipefail

DOCKER=false
VERBOSE=false
API_URL=""
while (($#)); do
  case "$1" in
    --docker) DOCKER=true ;;
    --verbose|-v) VERBOSE=true ;;
    --api)
      API_URL="http://localhost:8000/health"
      if [[ "${2:-}" == http* ]]; then API_URL="$2"; shift; fi ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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

if [[ "$DOCKER" == true ]]; then
  DC=(docker compose -f "$ROOT/docker-compose.yml")
  if run "${DC[@]}" exec -T db pg_isready -U postgres; then report PostgreSQL ok yes "$OUT"; else report PostgreSQL fail yes "$OUT"; fi
  if run "${DC[@]}" exec -T redis redis-cli ping; then report Redis ok yes "$OUT"; else report Redis fail yes "$OUT"; fi
  if run "${DC[@]}" exec -T celery-worker celery -A app.core.celery_app inspect ping -t 5; then
    report "Celery worker" ok yes "$OUT"; else report "Celery worker" fail yes "$OUT"; fi
  # Schema and beat are judged from inside the worker's container, with its settings.
  if run "${DC[@]}" exec -T celery-worker python -m app.core.probe schema; then
    report Schema ok yes "$OUT"; else report Schema fail yes "$OUT"; fi
  if run "${DC[@]}" exec -T celery-worker python -m app.core.probe beat; then
    report "Celery beat" ok no "$OUT"; else report "Celery beat" fail no "$OUT"; fi
else
  cd "$BACKEND" || exit 2
  if run "$PY" -m app.core.probe database; then
    report Database ok yes "$OUT"
    # A database behind the code's migrations breaks every task that touches a changed table.
    if run "$PY" -m app.core.probe schema; then report Schema ok yes "$OUT"; else report Schema fail yes "$OUT"; fi
  else
    report Database fail yes "$OUT"
  fi
  if run "$PY" -m app.core.probe broker; then report Broker ok yes "$OUT"; else report Broker fail yes "$OUT"; fi
  if run "$PY" -m celery -A app.core.celery_app inspect ping -t 5; then
    report "Celery worker" ok yes "$OUT"; else report "Celery worker" fail yes "$OUT"; fi
  # Beat is judged by what it did (however it was started): the newest health check it sent.
  if run "$PY" -m app.core.probe beat; then report "Celery beat" ok no "$OUT"; else report "Celery beat" fail no "$OUT"; fi
fi

if [[ -n "$API_URL" ]]; then
  if run curl -fsS --max-time 5 "$API_URL"; then report "Backend API" ok no "$OUT"; else report "Backend API" fail no "not running at $API_URL"; fi
else
  report "Backend API" skip no "not checked (use --api)"
fi

if ((FAILED_CORE)); then echo "UNHEALTHY"; exit 2; fi
if ((FAILED_OPTIONAL)); then echo "DEGRADED"; exit 1; fi
echo "HEALTHY"
exit 0

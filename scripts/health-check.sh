#!/usr/bin/env bash
# Check the services the engine needs and say whether the whole is healthy.
#
#   scripts/health-check.sh [--docker] [--verbose] [--api [URL]]
#
# Checks: database (PostgreSQL, or the SQLite file in embedded mode), broker (Redis, or the
# filesystem folders in embedded mode), Celery worker (`celery inspect ping`) and Celery beat
# (its pid file and the freshness of its schedule file; in Docker, its container is running).
# The HTTP API is not part of this release, so it is checked only with --api (default URL
# http://localhost:8000/health).
#
# Exit codes: 0 healthy; 1 degraded (beat, or the API when asked for, is down: sent tasks still
# run but nothing periodic happens); 2 unhealthy (database, broker or worker is down).
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
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
PY="$BACKEND/.venv/bin/python"
[[ -x "$PY" ]] || PY="${PYTHON:-python3}"
BEAT_STALE_S=600  # beat writes its schedule file every few minutes while it runs

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
  if run "${DC[@]}" ps --status running --services && grep -qx celery-beat <<<"$OUT"; then
    report "Celery beat" ok no "container running"; else report "Celery beat" fail no "container not running"; fi
else
  cd "$BACKEND" || exit 2
  if run "$PY" - <<'PY'
from sqlalchemy import text
from app.core.config import get_settings
from app.core.db import get_engine
from app.core.logging import mask_secrets
with get_engine().connect() as conn:
    conn.execute(text("SELECT 1"))
print(mask_secrets(get_settings().database_url))
PY
  then report Database ok yes "$OUT"; else report Database fail yes "$OUT"; fi
  if run "$PY" - <<'PY'
from app.core.celery_app import celery_app
from app.core.logging import mask_secrets
with celery_app.connection_for_write() as conn:
    conn.ensure_connection(max_retries=1)
print(mask_secrets(celery_app.conf.broker_url))
PY
  then report Broker ok yes "$OUT"; else report Broker fail yes "$OUT"; fi
  if run "$PY" -m celery -A app.core.celery_app inspect ping -t 5; then
    report "Celery worker" ok yes "$OUT"; else report "Celery worker" fail yes "$OUT"; fi
  DATA_DIR="$("$PY" -c 'from app.core.config import get_settings; print(get_settings().DATA_DIR)')"
  beat_pid="$(cat "$DATA_DIR/run/beat.pid" 2>/dev/null || true)"
  schedule="$(ls -t "$DATA_DIR"/celerybeat-schedule* 2>/dev/null | head -1)"
  age=-1
  [[ -n "$schedule" ]] && age=$(( $(date +%s) - $(stat -c %Y "$schedule") ))
  if [[ -n "$beat_pid" ]] && kill -0 "$beat_pid" 2>/dev/null && ((age >= 0 && age < BEAT_STALE_S)); then
    report "Celery beat" ok no "pid $beat_pid, schedule written ${age}s ago"
  else
    report "Celery beat" fail no "pid file: ${beat_pid:-none}; schedule file age: ${age}s (stale after ${BEAT_STALE_S}s)"
  fi
fi

if [[ -n "$API_URL" ]]; then
  if run curl -fsS --max-time 5 "$API_URL"; then report "Backend API" ok no "$OUT"; else report "Backend API" fail no "not running at $API_URL"; fi
else
  report "Backend API" skip no "not checked (no HTTP API in this release; use --api)"
fi

if ((FAILED_CORE)); then echo "UNHEALTHY"; exit 2; fi
if ((FAILED_OPTIONAL)); then echo "DEGRADED"; exit 1; fi
echo "HEALTHY"
exit 0

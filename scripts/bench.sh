#!/usr/bin/env bash
# make bench: how long the health check takes on the demo program (and on a large one), then
# the benchmark scripts of backend/benchmarks/.
#
# Each size gets a fresh SQLite database in a temporary folder: migrate, generate the demo
# program, then time `residency-scheduler analyze health --json` (in-process, no broker).
#   BENCH_SIZES="default 150x52x30" scripts/bench.sh     (FACULTYxWEEKSxQUALIFICATIONS)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
CLI="$BACKEND/.venv/bin/residency-scheduler"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$BACKEND"

for size in ${BENCH_SIZES:-default 150x52x30}; do
  folder="$WORK/$size"
  mkdir -p "$folder"
  export DATA_DIR="$folder" DATABASE_URL="sqlite:///$folder/bench.db" EMBEDDED_BROKER=true
  args=()
  if [[ "$size" != "default" ]]; then
    IFS=x read -r faculty weeks qualifications <<<"$size"
    args=(--faculty "$faculty" --weeks "$weeks" --qualifications "$qualifications")
  fi
  .venv/bin/python -c 'from app.core.migrate import upgrade_database; upgrade_database()'
  start=$EPOCHREALTIME
  "$CLI" demo-data "${args[@]}" >/dev/null
  generated=$EPOCHREALTIME
  "$CLI" analyze health --json >"$folder/health.json"
  done_at=$EPOCHREALTIME
  awk -v size="$size" -v a="$start" -v b="$generated" -v c="$done_at" \
    'BEGIN { printf "%-10s demo-data %6.2f s   analyze health %6.2f s\n", size, b - a, c - b }'
done

# The benchmark scripts, each printing its figures beside a baseline measured in the same run.
for script in benchmarks/bench_demo.py benchmarks/bench_contingency_core.py \
  benchmarks/bench_contingency.py benchmarks/bench_snapshot.py benchmarks/bench_health.py \
  benchmarks/bench_fallbacks.py benchmarks/bench_forecast.py; do
  echo
  echo "==> $script"
  .venv/bin/python "$script"
done

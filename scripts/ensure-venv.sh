#!/usr/bin/env bash
# Create backend/.venv if missing and install the backend into it, only when the requirements
# changed since the last install (a stamp file holds their checksum).
#
#   scripts/ensure-venv.sh          runtime requirements (make run)
#   scripts/ensure-venv.sh dev      runtime + test and lint tools (make test, make lint)
#
# PYTHON picks the interpreter that creates the venv (default: python3; 3.11 or newer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BACKEND="$ROOT/backend"
VENV="$BACKEND/.venv"
KIND="${1:-runtime}"

case "$KIND" in
  runtime) REQUIREMENTS=("$BACKEND/requirements.txt") ;;
  dev) REQUIREMENTS=("$BACKEND/requirements.txt" "$BACKEND/requirements-dev.txt") ;;
  *) echo "usage: $0 [runtime|dev]" >&2; exit 2 ;;
esac

if [[ ! -x "$VENV/bin/python" ]]; then
  PYTHON="${PYTHON:-python3}"
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
    echo "       Set PYTHON=/path/to/python3.11 or install it (apt-get install python3 python3-venv)." >&2
    exit 1
  fi
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

STAMP="$VENV/.installed-$KIND"
WANTED="$(cat "${REQUIREMENTS[@]}" "$BACKEND/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANTED" ]]; then
  exit 0
fi

echo "==> installing the backend ($KIND requirements) into $VENV"
PIP_ARGS=(--disable-pip-version-check --quiet)
# editable_mode=compat: the backend folder goes on sys.path through a plain .pth line. The
# default editable mode imports a finder module at every interpreter start (10-15 ms of each
# short command).
"$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" "${REQUIREMENTS[@]/#/-r}" \
  --config-settings editable_mode=compat -e "$BACKEND"
echo "$WANTED" > "$STAMP"

#!/usr/bin/env bash
# Creates .venv/ with the exact pins of requirements/ and installs the project into it.
# Idempotent: a stamp file records the hash of the requirement files, so a second run is instant.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.setup-stamp"
want_hash=$(cat requirements/lock.txt requirements/no-deps.txt pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_hash" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

# Rasa 3.6 runs on Python 3.10 and (with the pins below) 3.11, not on 3.12+.
pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.10 python3; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 10), (3, 11)) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}
if ! PY=$(pick_python); then
  echo "error: Rasa 3.6 needs Python 3.10 or 3.11, and neither python3.11 nor python3.10 was found." >&2
  echo "       Install one (for example: apt-get install python3.11 python3.11-venv, or pyenv install 3.11)" >&2
  echo "       or point PYTHON=/path/to/python3.11 at it, then run this again." >&2
  exit 1
fi

echo "setup: creating $VENV with $("$PY" --version) (a few minutes the first time)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install -r requirements/lock.txt 2> >(grep -v "^WARNING: Location" >&2)
"${PIP[@]}" install --no-deps --ignore-requires-python -r requirements/no-deps.txt 2> >(grep -v "^WARNING: Location" >&2)
"${PIP[@]}" install --no-deps --no-build-isolation -e . 2> >(grep -v "^WARNING: Location" >&2)
echo "$want_hash" > "$STAMP"
echo "setup: done"

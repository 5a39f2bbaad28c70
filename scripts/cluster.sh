#!/usr/bin/env bash
# Two Rasa servers behind nginx, with PostgreSQL and Redis, all on 127.0.0.1 (see bot/cluster.py).
# Installs the Debian packages it needs when they are missing, then runs in the foreground;
# Ctrl-C stops everything. Options go to `python -m bot.cluster` (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing+=(nginx)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "cluster: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  echo "cluster: installing ${missing[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' own services are not started: this script runs private instances on loopback.
  if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

bash scripts/setup.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
exec .venv/bin/python -m bot.cluster "$@"

#!/usr/bin/env bash
# Two Rasa servers behind nginx, with PostgreSQL and Redis, all on 127.0.0.1 (see bot/ops/cluster.py).
# Installs the Debian packages it needs when they are missing, then runs in the foreground;
# Ctrl-C stops everything. Options go to `python -m bot.ops.cluster` (--help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-services.sh
bash scripts/setup.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
exec .venv/bin/python -m bot.ops.cluster "$@"

#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's Chromium (test tools that
# download their own browser cannot here) and axe-core from npm. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium for the browser tests (a minute or two)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
fi

if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  echo "setup: installing axe-core from npm for the accessibility check"
  (cd tests/browser && npm ci --silent --no-audit --no-fund)
fi

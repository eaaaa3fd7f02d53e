#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium (Debian's chromium and chromium-driver)
# driven by Selenium (PyPI) against a live 3-node cluster of debug nodes, with and without tokens
# (scripts/dashboard/browser_test.py; docs/dashboard.md, docs/testing.md). Installs what it needs
# when missing. Screenshots of each view go to the folder it prints.
#
#   scripts/check-dashboard.sh            (needs .build/debug/quorum: swift build first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[dashboard %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bin="${QUORUM_BIN:-$(pwd)/.build/debug/quorum}"
[ -x "$bin" ] || { log "no quorum binary at $bin (run swift build first)"; exit 2; }
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  log "installing chromium and chromium-driver (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium chromium-driver >&2
fi
if ! python3 -c 'import selenium' 2>/dev/null; then
  log "installing selenium (PyPI)"
  python3 -m pip install --quiet 'selenium>=4.11,<5' >&2
fi
# Selenium Manager must never run (it would download a browser): the script names both binaries.
export SE_OFFLINE=true
# Twice: with API tokens (the page asks for one) and without (the local clusters' setting:
# loopback Host names only).
python3 scripts/dashboard/browser_test.py --bin "$bin" "$@"
python3 scripts/dashboard/browser_test.py --bin "$bin" --no-tokens "$@"
echo "dashboard: 2 passed, 0 failed"

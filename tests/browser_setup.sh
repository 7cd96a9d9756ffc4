#!/usr/bin/env bash
# What the tests need from the system, installed when missing: Debian's chromium for the browser
# tests (never a browser of Playwright's own download), and curl and jq for the README's
# walkthroughs (tests/e2e/test_walkthroughs.py).
set -euo pipefail
CHROMIUM=${TANHUI_CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "The tests need these Debian packages: ${missing[*]}." >&2
  echo "Install them as root: apt-get install ${missing[*]} (or set TANHUI_CHROMIUM to a Chromium binary)." >&2
  exit 1
fi
echo "installing ${missing[*]} for the tests …"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${missing[@]}" >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }

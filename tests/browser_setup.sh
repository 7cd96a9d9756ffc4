#!/usr/bin/env bash
# The browser tests drive Debian's chromium package; install it when it is missing. Never
# downloads a browser of its own (Playwright's download is not used).
set -euo pipefail
CHROMIUM=${TANHUI_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "The browser tests need Debian's chromium at $CHROMIUM." >&2
  echo "Install it as root: apt-get install chromium (or set TANHUI_CHROMIUM to a Chromium binary)." >&2
  exit 1
fi
echo "installing Debian's chromium for the browser tests …"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }

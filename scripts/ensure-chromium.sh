#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (never a downloaded browser build).
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "ERROR: /usr/bin/chromium is missing: install Debian's chromium package (apt-get install chromium)." >&2; exit 1; }

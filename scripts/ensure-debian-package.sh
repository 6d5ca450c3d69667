#!/usr/bin/env bash
# Usage: ensure-debian-package.sh BINARY PACKAGE WHY
# Installs Debian's PACKAGE when BINARY is missing (as root, with apt-get), or fails saying why
# it is needed: browser tests drive Debian's chromium, PDF tests run LibreOffice (soffice), the
# benchmark loads pages with wrk.
set -u
binary=$1 package=$2 why=$3
if command -v "$binary" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's $package ($why)…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
fi
command -v "$binary" >/dev/null 2>&1 || {
  echo "ERROR: $binary is missing ($why): install Debian's $package package (apt-get install $package)." >&2
  exit 1
}

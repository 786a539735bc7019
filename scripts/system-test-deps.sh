#!/usr/bin/env bash
# Install the Debian packages the test suite drives as real servers, when missing.
# Needs root (CI and the dev machines run as root); prints what to run otherwise.
set -euo pipefail
need=()
for pkg in "$@"; do need+=("$pkg"); done
if [ ${#need[@]} -eq 0 ]; then
  command -v msgfmt >/dev/null || need+=(gettext)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages for the tests: ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing Debian packages for the tests: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

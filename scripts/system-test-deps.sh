#!/usr/bin/env bash
# Install the Debian packages the test suite drives as real servers, when missing.
# Needs root (CI and the dev machines run as root); prints what to run otherwise.
set -euo pipefail
# What Sportello itself needs at run time (Pango for WeasyPrint) comes first.
bash "$(dirname "$0")/system-deps.sh"
need=()
for pkg in "$@"; do need+=("$pkg"); done
if [ ${#need[@]} -eq 0 ]; then
  command -v msgfmt >/dev/null || need+=(gettext)
  # Dovecot (dovecot -c FILE, no service) is the IMAP and POP3 server of the poller tests.
  [ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/pop3 ] || need+=(dovecot-pop3d)
  command -v openssl >/dev/null || need+=(openssl)  # the Dovecot test certificate
  # Debian's chromium is the browser of the Playwright tests (never `playwright install`).
  command -v chromium >/dev/null || need+=(chromium)
  # The statement PDF tests read the text back (pdftotext) and render a page (pdftoppm).
  command -v pdftotext >/dev/null || need+=(poppler-utils)
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

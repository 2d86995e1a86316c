#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing.
#   system-deps.sh test      chromium for the browser test, dovecot for the IMAP tests
#   system-deps.sh postgres  a PostgreSQL server for `make test-pg`
set -euo pipefail

want=()
case "${1:-}" in
  test)
    [ -x /usr/bin/chromium ] || want+=(chromium)
    [ -x /usr/sbin/dovecot ] || want+=(dovecot-imapd) ;;
  postgres) ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql) ;;
  *) echo "usage: $0 test|postgres" >&2; exit 2 ;;
esac
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "missing Debian packages: ${want[*]} (run as root or install them)" >&2; exit 1
  fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null

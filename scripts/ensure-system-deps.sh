#!/usr/bin/env bash
# The system packages the README's commands need, installed when missing (Debian/Ubuntu):
#   ensure-system-deps.sh start   redis-server                     (npm start, when it runs its own Redis)
#   ensure-system-deps.sh test    redis-server, chromium, promtool, docker-compose
#                                 (npm test's pretest, and .ci/run)
# When everything is there it only looks (a few `command -v`, no output). Otherwise it installs the
# missing ones with apt-get when it may (root, or passwordless sudo); when it may not, it prints the
# one command to run. Exit 0: all present now; 1: apt-get failed; 2: missing, not allowed to install.
# No `set -u`: macOS's bash 3.2 would reject the script's empty lists.
set -eo pipefail

case "${1:-}" in
  start | test) what="npm $1" ;;
  *) echo "usage: $0 start|test" >&2; exit 64 ;;
esac

packages='' # Debian package names
tools=''    # what was not found, as the user knows it
need() { packages="$packages $1"; tools="$tools${tools:+, }$2"; }

command -v redis-server >/dev/null 2>&1 || need redis-server redis-server
if [ "$1" = test ]; then
  # test/dashboard/browser.test.ts runs $CHROMIUM_PATH, else Debian's chromium.
  [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null 2>&1 || need chromium chromium
  # test/dashboard/promtool.test.ts lints /metrics with Prometheus's promtool.
  command -v "${PROMTOOL_PATH:-promtool}" >/dev/null 2>&1 || need prometheus promtool
  # test/compose.test.ts validates docker-compose.yml with a real compose implementation (no engine needed).
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need docker-compose docker-compose
fi
[ -z "$packages" ] && exit 0
packages=${packages# }

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$what needs $tools, not found on PATH. Install them with your package manager (Debian: $packages;" >&2
  echo "macOS: brew install redis prometheus docker-compose, and point CHROMIUM_PATH at a Chromium)." >&2
  exit 2
fi
if [ "$(id -u)" = 0 ]; then
  as=''
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as='sudo -n'
else
  echo "$what needs $tools, and may not install them here (not root, no passwordless sudo). Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $packages" >&2
  exit 2
fi

echo "$what: $tools missing: installing $packages with ${as:+sudo }apt-get (a minute or two, once)"
log=$(mktemp)
# shellcheck disable=SC2086 # $as and $packages are word lists
if ! { $as env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  $as env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  rm -f "$log"
  echo "$what: apt-get failed (above). Install them yourself: sudo apt-get install -y --no-install-recommends $packages" >&2
  exit 1
fi
rm -f "$log"
echo "$what: installed $packages"

#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine: system packages (Qt WebEngine's libraries, Chromium for
# the browser tests, Xvfb), then .venv/ with the app and its extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Ubuntu 24.04 and Debian 13 renamed ALSA's library; "libasound2" is only virtual there.
ALSA=libasound2
apt-cache show libasound2t64 >/dev/null 2>&1 && ALSA=libasound2t64
# Debian packages Chromium itself; Ubuntu's "chromium" is a snap, which does not run in
# containers, so there the tests use Playwright's own build of it (installed below).
. /etc/os-release
DEBIAN_CHROMIUM=chromium
[ "${ID:-}" = "debian" ] || DEBIAN_CHROMIUM=""

APT_PACKAGES=(
  python3 python3-venv python3-pip
  $DEBIAN_CHROMIUM xvfb xauth xdotool node-typescript
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0
  libegl1 libgl1 libnss3 "$ALSA" libxkbfile1 libfontconfig1 libdbus-1-3
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[qt,test,bench]'
  touch "$stamp"
fi
# Byte-compile the app's own modules, as installing a wheel would: an editable install leaves
# it to the first import, and where PYTHONDONTWRITEBYTECODE is set (many containers) every start
# compiled them again (80-100 ms of each start here). Only changed files are compiled.
.venv/bin/python -m compileall -q app benchmarks tests docs

if [ -z "$DEBIAN_CHROMIUM" ] && [ ! -x /usr/bin/chromium ] && [ ! -f .venv/.chromium ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO .venv/bin/playwright install-deps chromium >/dev/null
  .venv/bin/playwright install chromium >/dev/null
  touch .venv/.chromium
fi

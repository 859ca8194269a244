#!/usr/bin/env bash
# scripts/setup.sh - everything a fresh Debian 12 machine needs before it
# can build, run and test fusionmap: Debian packages (scripts/apt-packages.txt),
# npm packages (package-lock.json), the web and basemap assets, and the build.
#
#   scripts/setup.sh            # Release-like build in build/
#   scripts/setup.sh --asan     # also the ASan+UBSan build in build-asan/
#
# Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------
missing=()
while read -r p cmd; do
    case "$p" in '' | '#'*) continue ;; esac
    [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1 && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done <scripts/apt-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- npm packages (pinned in package-lock.json) --------------------------------
if [ -f package-lock.json ]; then
    stamp=node_modules/.fusionmap-lock-stamp
    if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
        say "installing npm packages (npm ci)"
        npm ci --no-audit --no-fund
        cp package-lock.json "$stamp"
    fi
fi

# --- assets built from npm packages --------------------------------------------
for step in scripts/build-web.sh scripts/build-basemap.sh; do
    if [ -x "$step" ]; then
        say "$step"
        "$step"
    fi
done

# --- the build -----------------------------------------------------------------
build() {
    local dir=$1 type=$2
    say "building $type in $dir/"
    cmake -S "$top" -B "$top/$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
    cmake --build "$top/$dir" -j"$(nproc)"
}
build build RelWithDebInfo
if [ "${1:-}" = "--asan" ]; then
    build build-asan Asan
fi

#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests
# (tests/browser, marker `browser`), then print its version.
#
# Installs with apt-get only when it is missing, so a prepared machine needs no network.
# Needs root (or sudo) the first time.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ ! -x "$CHROMIUM" ]]; then
    echo "Chromium not found at $CHROMIUM; installing Debian's chromium package" >&2
    SUDO=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            echo "error: need root or sudo to install chromium with apt-get" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

if [[ ! -x "$CHROMIUM" ]]; then
    echo "error: $CHROMIUM is still missing after installing chromium" >&2
    exit 1
fi

# Debian's wrapper script prints a harmless shell warning on some systems; keep stdout clean.
"$CHROMIUM" --version 2>/dev/null

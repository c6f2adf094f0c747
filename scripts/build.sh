#!/usr/bin/env bash
# build.sh: configure and build one CMake preset, the step run.sh and test.sh share. Sets the machine up
# first (scripts/setup.sh: Debian packages, ImGui sources, npm) unless --no-setup is given.
# Usage: scripts/build.sh [--no-setup] PRESET [extra `cmake --build` arguments, e.g. --target quantlab_tests]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

setup=1
if [ "${1:-}" = "--no-setup" ]; then setup=0; shift; fi
preset=${1:?usage: scripts/build.sh [--no-setup] PRESET [cmake --build arguments]}
shift
# Emscripten's JS optimizer needs acorn from node modules (Debian's by default; CMake's QUANTLAB_NODE_PATH).
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
if [ "$setup" = 1 ]; then scripts/setup.sh; fi
cmake --preset "$preset"
cmake --build --preset "$preset" "$@"

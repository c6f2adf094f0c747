#!/usr/bin/env bash
# test.sh: the README's second command. Sets up the machine, builds every suite (native, ASan+UBSan,
# wasm under node, fuzzers, browser tests) and runs them all under one CTest, whose last line counts them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NODE_PATH=/usr/share/nodejs   # Emscripten's optimizer needs acorn from Debian's node modules
scripts/setup.sh
cmake --preset ci
cmake --build --preset ci
ctest --preset ci

#!/usr/bin/env bash
# run.sh: the README's first command. Sets up the machine (scripts/setup.sh: Debian packages, ImGui
# sources, npm), builds the WebAssembly page (the `web` CMake preset) and serves it on 127.0.0.1,
# printing the URL to open. Extra arguments go to scripts/serve.sh (--port N, --data DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export NODE_PATH=/usr/share/nodejs   # Emscripten's JS optimizer needs acorn from Debian's node modules
scripts/setup.sh
cmake --preset web
cmake --build --preset web
exec scripts/serve.sh "$@"

#!/usr/bin/env bash
# run.sh: the README's first command. Sets up the machine, builds the WebAssembly page (the `web` CMake
# preset, by way of scripts/build.sh) and serves it on 127.0.0.1, printing the URL to open. Extra arguments
# go to scripts/serve.sh (--port N, --data DIR, --host ADDR for the classroom's network).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/build.sh web
# The classroom (--host ADDR): serve.sh packages both builds, so the single-threaded one is built too.
case " $* " in *" --host "*) scripts/build.sh --no-setup web-st ;; esac
exec scripts/serve.sh "$@"

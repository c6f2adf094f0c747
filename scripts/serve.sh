#!/usr/bin/env bash
# serve.sh: serves the built web page on 127.0.0.1 (never on other interfaces) and prints its URL.
# When a CIFAR-10 folder with test_batch.bin is found (--data DIR, else $QUANTLAB_DATA, else the per-user
# cache that `quantlab data fetch` fills), it is served beside the page and the page evaluates all 10,000
# test images; otherwise the page uses its bundled 1,000-image sample.
# Usage: scripts/serve.sh [--port N] [--data DIR] [--page DIR]      (default port 8080; a busy port -> a free one)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=${PORT:-8080}
page=build/web/page
data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --page) page=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -f "$page/index.html" ] || [ ! -f "$page/quantlab.wasm" ]; then
  echo "serve: no built page in $page. Build it first: cmake --preset web && cmake --build --preset web" >&2
  echo "       (or run scripts/run.sh, which sets up, builds and serves)" >&2
  exit 1
fi
command -v node >/dev/null || { echo "serve: node is missing (Debian package nodejs; scripts/setup.sh installs it)" >&2; exit 1; }

if [ -z "$data" ]; then
  data=${QUANTLAB_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/quantlab/cifar-10-batches-bin}
fi
args=("$page" --port "$port")
if [ -f "$data/test_batch.bin" ]; then
  args+=(--test-set "$data/test_batch.bin")
else
  echo "serve: no $data/test_batch.bin; the page uses its bundled 1,000-image sample (--data DIR for the full test set)"
fi
exec node web/serve.mjs "${args[@]}"

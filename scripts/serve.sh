#!/usr/bin/env bash
# serve.sh: serves the built web page on 127.0.0.1 and prints its URL; --host ADDR serves it on the classroom's
# network instead (0.0.0.0: every interface), printing every address students can open and, with Debian's
# qrencode installed, a QR code of it. Over plain http on a network browsers do not cross-origin-isolate a page,
# so there it serves a packaged folder (scripts/package_web.sh), whose single-threaded build runs anywhere.
# When a CIFAR-10 folder with test_batch.bin is found (--data DIR, else $QUANTLAB_DATA, else the per-user
# cache that `quantlab data fetch` fills), it is served beside the page and the page evaluates all 10,000
# test images; otherwise the page uses its bundled 1,000-image sample.
# Usage: scripts/serve.sh [--host ADDR] [--port N] [--data DIR] [--page DIR]   (port 8080; busy -> a free one)
#   --page: default build/web/page; with --host, build/web-package (packaged from the built pages at each start)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=${PORT:-8080}
page=""
data=""
host=127.0.0.1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --host) host=${2:?serve: --host needs an address (0.0.0.0 for every interface)}; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --page) page=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$data" ]; then
  data=${QUANTLAB_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/quantlab/cifar-10-batches-bin}
fi
loopback=0
case "$host" in 127.*|localhost|::1) loopback=1 ;; esac
if [ -z "$page" ]; then
  page=build/web/page
  if [ "$loopback" = 0 ]; then
    # Packaged afresh from the built pages each time (a copy, seconds), with the full test set when found.
    page=build/web-package
    with_data=()
    [ -f "$data/test_batch.bin" ] && with_data=(--with-data "$data")
    scripts/package_web.sh "$page" --no-build "${with_data[@]}" || {
      echo "serve: for --host, build both pages first: scripts/package_web.sh $page (builds and packages them)" >&2; exit 1; }
  fi
fi
packaged=0
[ -f "$page/st/quantlab.wasm" ] && [ -f "$page/mt/quantlab.wasm" ] && packaged=1
if [ "$packaged" = 0 ] && { [ ! -f "$page/index.html" ] || [ ! -f "$page/quantlab.wasm" ]; }; then
  echo "serve: no built page in $page. Build it first: cmake --preset web && cmake --build --preset web" >&2
  echo "       (or run scripts/run.sh, which sets up, builds and serves)" >&2
  exit 1
fi
command -v node >/dev/null || { echo "serve: node is missing (Debian package nodejs; scripts/setup.sh installs it)" >&2; exit 1; }

if [ "$loopback" = 0 ]; then
  if [ "$packaged" = 1 ]; then
    echo "serve: over plain http on a network, browsers run the page's single-threaded build (cross-origin isolation,"
    echo "       which wasm threads need, is given only to https and localhost pages)"
  elif grep -q '<body data-threads="true"' "$page/index.html"; then
    echo "serve: warning: $page is a threaded-only build; browsers on other machines get no cross-origin isolation over" >&2
    echo "       plain http and will not start it. Serve a packaged folder: scripts/package_web.sh DIR, --page DIR" >&2
  fi
fi
args=("$page" --host "$host" --port "$port")
if [ "$packaged" = 1 ]; then
  [ -f "$page/test_batch.bin" ] || echo "serve: $page has no test_batch.bin; the page uses its bundled 1,000-image sample" \
                                       "(package it with --with-data DIR for all 10,000 test images)"
elif [ -f "$data/test_batch.bin" ]; then
  args+=(--test-set "$data/test_batch.bin")
else
  echo "serve: no $data/test_batch.bin; the page uses its bundled 1,000-image sample (--data DIR for the full test set)"
fi
exec node web/serve.mjs "${args[@]}"

#!/usr/bin/env bash
# test.sh: the README's second command. Sets up the machine, builds every suite (native, ASan+UBSan,
# wasm under node, fuzzers, browser tests: the `ci` preset) and runs them all under one CTest, whose last
# line counts them.
#   scripts/test.sh --quick   the inner loop: no setup; builds the `dev` preset's native unit tests (Debug, no
#                             sanitizers, build/dev) and runs them, all but the [full] one (ctest --preset dev).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  --quick) scripts/build.sh --no-setup dev && exec ctest --preset dev ;;
  "") scripts/build.sh ci && exec ctest --preset ci ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# setup.sh: installs everything QuantLab needs on Debian 12 (bookworm) from Debian's packages and the npm
# registry, nothing else. Idempotent: when every package is already there it only checks and exits (~1 s).
# Usage: scripts/setup.sh [--bench]  (as root, or a user with sudo)
#   --bench  also python3-torch, the notebook's PyTorch loop that tests/bench/bench_train.sh times beside
#            quantlab (~50 MB beside the LibTorch below; no test needs it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

# Build and test toolchain, libraries, the browser and the screenshot tools (docs/TOOLCHAIN.md says why each is here).
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang libclang-rt-14-dev                          # libFuzzer targets
  zlib1g-dev nlohmann-json3-dev libcli11-dev libstb-dev catch2 libbenchmark-dev
  libtorch-dev libopenblas0-openmp                  # LibTorch 1.13 (CPU) for the trainer
  libimgui-dev libglfw3-dev                         # desktop app
  emscripten nodejs                                 # web build and wasm tests (nodejs brings npm here)
  chromium xvfb imagemagick xdotool                 # browser tests and screenshots
  fonts-ipafont-gothic python3-fonttools            # Japanese UI text, subset for the web
  qrencode                                          # scripts/serve.sh --host: the page's address as a QR code
)
if [ "$bench" = 1 ]; then packages+=(python3-torch); fi

sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
    echo "setup: needs root (or sudo) to install Debian packages" >&2; exit 1; fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi

# The wasm build compiles Dear ImGui from source: Debian ships the sources as a source package.
imgui_src=${QUANTLAB_IMGUI_SRC:-/opt/quantlab/imgui-src}
if [ ! -f "$imgui_src/imgui.cpp" ]; then
  echo "setup: fetching Dear ImGui sources (Debian source package) into $imgui_src"
  if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    "${sudo_cmd[@]}" apt-get update -q
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get source -q --download-only imgui >/dev/null && dpkg-source -x --no-check imgui_*.dsc src >/dev/null)
  "${sudo_cmd[@]}" mkdir -p "$imgui_src"
  "${sudo_cmd[@]}" cp -r "$tmp/src/." "$imgui_src/"
  rm -rf "$tmp"
fi

command -v npm >/dev/null || { echo "setup: npm is missing: install Debian's npm (or nodejs from a source that ships it)" >&2; exit 1; }

# npm packages (playwright-core drives Debian's Chromium; it downloads no browser).
if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
echo "setup: done"

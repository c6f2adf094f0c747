#!/usr/bin/env bash
# package_web.sh: writes the web page as one self-contained static folder for any static host (GitHub Pages,
# a university web space, `python3 -m http.server`), no special headers needed. It holds both builds:
# mt/ (wasm threads; preset `web`) and st/ (no threads; preset `web-st`), and glue.js starts mt/ where the page is
# cross-origin isolated (a server sending COOP/COEP over https or on localhost, as scripts/serve.sh does), else st/.
# With --with-data it includes test_batch.bin, and the page evaluates all 10,000 test images, and the training
# batches data_batch_1..5.bin found there, which the training panel then trains on (fetched when a run starts).
# Usage: scripts/package_web.sh DIR [--with-data CIFAR_DIR] [--no-build] [--mt PAGE_DIR] [--st PAGE_DIR]
#   --no-build   use the pages already built (build/web/page, build/web-st/page) instead of building them
#   --mt, --st   take the threaded / single-threaded page from these folders (implies --no-build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

out="" data="" build=1
mt="$root/build/web/page" st="$root/build/web-st/page"
while [ $# -gt 0 ]; do
  case "$1" in
    --with-data) data=${2:?package_web: --with-data needs a CIFAR-10 folder}; shift 2 ;;
    --no-build) build=0; shift ;;
    --mt) mt=${2:?package_web: --mt needs a folder}; build=0; shift 2 ;;
    --st) st=${2:?package_web: --st needs a folder}; build=0; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "package_web: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) if [ -n "$out" ]; then echo "package_web: one output folder only ('$out' and '$1')" >&2; exit 2; fi
       out=$1; shift ;;
  esac
done
[ -n "$out" ] || { echo "usage: scripts/package_web.sh DIR [--with-data CIFAR_DIR] [--no-build] (see --help)" >&2; exit 2; }

# Check the data first: a typo should not cost two builds.
if [ -n "$data" ]; then
  # 10,000 records of 1 label byte + 3x32x32 pixels: the CIFAR-10 binary test batch and nothing else.
  expected=$((10000 * 3073))
  if [ ! -f "$data/test_batch.bin" ]; then
    echo "package_web: no $data/test_batch.bin (a CIFAR-10 binary folder; \`quantlab data fetch\` makes one)" >&2; exit 1
  fi
  size=$(stat -c %s "$data/test_batch.bin")
  if [ "$size" != "$expected" ]; then
    echo "package_web: $data/test_batch.bin is $size bytes, expected $expected (CIFAR-10's binary test batch)" >&2; exit 1
  fi
  # The training batches, each also 10,000 records; those present go in (none: the page trains on its sample).
  train_batches=()
  for i in 1 2 3 4 5; do
    f="$data/data_batch_$i.bin"
    [ -f "$f" ] || continue
    size=$(stat -c %s "$f")
    if [ "$size" != "$expected" ]; then
      echo "package_web: $f is $size bytes, expected $expected (a CIFAR-10 binary training batch)" >&2; exit 1
    fi
    train_batches+=("data_batch_$i.bin")
  done
fi

if [ "$build" = 1 ]; then
  "$root/scripts/build.sh" --no-setup web
  "$root/scripts/build.sh" --no-setup web-st
fi

# Each page: the files of one build, and the shell its CMake configured (data-threads says which build it is).
check_page() {  # folder, expected data-threads, files...
  local dir=$1 threads=$2; shift 2
  for f in index.html glue.js shell_i18n.js "$@"; do
    if [ ! -f "$dir/$f" ]; then
      echo "package_web: $dir/$f is missing. Build the pages first (scripts/package_web.sh without --no-build, or" >&2
      echo "             cmake --preset web && cmake --build --preset web;" \
           "cmake --preset web-st && cmake --build --preset web-st)" >&2
      exit 1
    fi
  done
  if ! grep -q "<body data-threads=\"$threads\"" "$dir/index.html"; then
    echo "package_web: $dir is not the $( [ "$threads" = true ] && echo threaded || echo single-threaded) build" \
         "(its index.html lacks data-threads=\"$threads\")" >&2
    exit 1
  fi
}
build_files=(quantlab.js quantlab.wasm quantlab.data)
check_page "$mt" true "${build_files[@]}" quantlab.worker.js
check_page "$st" false "${build_files[@]}" train_worker.js train_worker.wasm
# The preloaded assets are the same for both builds, so the folder holds them once (glue.js fetches quantlab.data
# beside index.html); builds from different asset sets are not packed together.
if ! cmp -s "$mt/quantlab.data" "$st/quantlab.data"; then
  echo "package_web: $mt/quantlab.data and $st/quantlab.data differ (built with different assets/); rebuild both" >&2
  exit 1
fi
for f in glue.js shell_i18n.js; do
  cmp -s "$mt/$f" "$st/$f" || echo "package_web: note: $mt/$f and $st/$f differ (built from different sources?); using $st/$f" >&2
done

# Refuse to empty a folder that is not a previous package.
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && [ ! -f "$out/st/quantlab.wasm" ]; then
  echo "package_web: $out exists and is not a QuantLab package; give an empty or new folder" >&2; exit 1
fi
rm -rf "$out/mt" "$out/st" "$out/index.html" "$out/glue.js" "$out/shell_i18n.js" "$out/quantlab.data" \
       "$out/test_batch.bin" "$out/cifar10_train_2000.bin" "$out/.nojekyll" "$out"/data_batch_*.bin
mkdir -p "$out/mt" "$out/st"

cp "$mt/quantlab.js" "$mt/quantlab.wasm" "$mt/quantlab.worker.js" "$out/mt/"
cp "$st/quantlab.js" "$st/quantlab.wasm" "$st/train_worker.js" "$st/train_worker.wasm" "$out/st/"  # st trains in its own Web Worker
cp "$st/glue.js" "$st/shell_i18n.js" "$st/quantlab.data" "$out/"
# The training panel's images, fetched by glue.js when the first run starts (not preloaded: the first load stays small).
if [ -f "$st/cifar10_train_2000.bin" ]; then cp "$st/cifar10_train_2000.bin" "$out/"; fi
test_set=none train_set=""
if [ -n "$data" ]; then
  install -m 644 "$data/test_batch.bin" "$out/test_batch.bin"
  test_set=bundled
  for b in "${train_batches[@]}"; do install -m 644 "$data/$b" "$out/$b"; done
  train_set=$(IFS=,; echo "${train_batches[*]}")
fi
# The shell: glue.js chooses the build at load ("auto"), and knows whether test_batch.bin is here (so a static
# host is never asked for a file it lacks: a 404 would be logged in the browser's console).
sed "s|<body data-threads=\"false\"|<body data-threads=\"auto\" data-test-set=\"$test_set\" data-train-set=\"$train_set\"|" \
  "$st/index.html" > "$out/index.html"
grep -q 'data-threads="auto"' "$out/index.html" || {
  echo "package_web: could not set data-threads in $out/index.html" >&2; exit 1; }
# GitHub Pages: serve the files as they are (no Jekyll processing).
: > "$out/.nojekyll"

if [ -n "$data" ]; then images="and test_batch.bin (all 10,000 test images)${train_set:+, ${train_set//,/ } (training images)}"
else images="(the bundled 1,000-image sample; --with-data DIR for all 10,000)"; fi
echo "package_web: wrote $out ($(du -sh "$out" | cut -f1)): index.html, glue.js, shell_i18n.js, quantlab.data, cifar10_train_2000.bin, mt/, st/," \
     ".nojekyll $images"
echo "  Copy the folder to any static web server (GitHub Pages: push it to a branch or docs/ and enable Pages)."
echo "  Browsers start the threaded build where the page is cross-origin isolated (scripts/serve.sh --page $out)"
echo "  and the single-threaded one everywhere else."

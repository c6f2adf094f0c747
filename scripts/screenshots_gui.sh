#!/usr/bin/env bash
# screenshots_gui.sh: regenerates docs/img/gui_*.png, the README's pictures of quantlab-gui's panels, by
# running the app under Xvfb with a state string per picture and its own --screenshot (the window's pixels,
# taken once evaluation, and training, have finished). The training panel's picture trains three tiny runs
# first (LibTorch builds; a minute or two on 2 cores) on CIFAR-10 from $QUANTLAB_DATA or ../shared/data.
# The pointer is parked outside the window, so no hover read-out or tooltip shows in the pictures.
# Usage, from anywhere:
#   scripts/screenshots_gui.sh [--size WxH] [--presenter] [--out DIR] [path/to/quantlab-gui [NAME...]]
#     default: 1280x720 (the smallest projector size the layout is made for), into docs/img, the GUI from
#     build/gui/native/gui/quantlab-gui; NAMEs, e.g. gui_train: only those pictures.
#     --presenter: every picture in presenter mode (2x fonts, high contrast), named NAME_presenter.
#   scripts/screenshots_gui.sh --all-sizes [--out DIR] [GUI]: every picture at 1280x720, 1366x768 and 1920x1080,
#     presenter off and on, into DIR (default build/screenshots-gui), named NAME_WxH[_presenter].
# Needs xvfb and xdotool (scripts/setup.sh installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size="1280x720"
presenter=0
out=""
all_sizes=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --presenter) presenter=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --all-sizes) all_sizes=1; shift ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
  esac
done
[[ "$size" =~ ^[0-9]+x[0-9]+$ ]] || { echo "screenshots_gui: --size wants WxH (e.g. 1366x768), got '$size'" >&2; exit 1; }
gui="${1:-$root/build/gui/native/gui/quantlab-gui}"
only=("${@:2}")
if [[ $all_sizes -eq 1 ]]; then
  dir="${out:-$root/build/screenshots-gui}"
  for s in 1280x720 1366x768 1920x1080; do
    "${BASH_SOURCE[0]}" --size "$s" --out "$dir/$s" "$gui" "${only[@]}"
    "${BASH_SOURCE[0]}" --size "$s" --presenter --out "$dir/$s" "$gui" "${only[@]}"
  done
  exit 0
fi
width="${size%x*}"
height="${size#*x}"
out="${out:-$root/docs/img}"
[[ -x "$gui" ]] || { echo "screenshots_gui: $gui is not built (cmake --build build/gui --target quantlab-gui)" >&2; exit 1; }
mkdir -p "$out"

# A free X display number.
display=""
for n in $(seq 90 120); do
  if [[ ! -e /tmp/.X$n-lock && ! -e /tmp/.X11-unix/X$n ]]; then display=":$n"; break; fi
done
[[ -n "$display" ]] || { echo "screenshots_gui: no free X display" >&2; exit 1; }
# A screen over twice the window's size: the pointer starts mid-screen, which is then outside the window (at
# 0,0), so no hover read-out or tooltip shows (xdotool below moves it further when the server lets it).
Xvfb "$display" -screen 0 "$((2 * width + 64))x$((2 * height + 64))x24" -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
logs="$(mktemp -d)"
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$logs"' EXIT
for _ in $(seq 50); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done
export DISPLAY="$display"
# The pointer starts mid-screen, where it would open hover read-outs: park it outside the window.
xdotool mousemove "$((2 * width + 60))" "$((2 * height + 60))" 2>/dev/null || true

shot() {  # name state-string [more quantlab-gui options]
  local name="$1" state="$2"
  shift 2
  if [[ ${#only[@]} -gt 0 && ! " ${only[*]} " =~ " $name " ]]; then return 0; fi
  if [[ $presenter -eq 1 ]]; then
    name="${name%_presenter*}_presenter"
    state="$state&fs=2&hc=1"
  fi
  [[ "$out" == "$root/docs/img" ]] || name="${name}_$size"
  "$gui" --state "$state" --width "$width" --height "$height" --screenshot "$out/$name.png" --screenshot-when-idle \
         --screenshot-after 30 --quit-after-screenshot --no-vsync "$@" >/dev/null 2>"$logs/$name.log" || { cat "$logs/$name.log" >&2; exit 1; }
  echo "wrote $out/$name.png"
}

shot gui_quantizer   "panel=quantizer&lb=3"
shot gui_quantizer_weights "panel=quantizer&lab=weight&ll=1&lb=4&lr=meanstd&lk=2&lpc=1&lch=5&ste=clipped"
shot gui_network     "panel=network&wb=4&ab=4&nl=1"
shot gui_eval        "panel=eval&wb=3&ab=3"
shot gui_lesson      "lesson=2"
data="${QUANTLAB_DATA:-$root/../shared/data/cifar-10-batches-bin}"
if "$gui" --help | grep -q -- "--train " && [[ -f "$data/data_batch_1.bin" ]]; then
  # Three runs overlaid (the final assignment's comparison): 3,000 images (600 held out), 3 epochs each.
  shot gui_train "panel=train" --data "$data" --runs-dir "$logs/runs" --train-limit 3000 \
       --train "epochs=3,lr=0.01,label=float" \
       --train "epochs=3,lr=0.01,qat=1,wb=4,ab=4,label=W4A4 QAT" \
       --train "epochs=3,lr=0.01,qat=1,wb=2,ab=2,rule=mse,asym=1,pc=1,label=W2A2 QAT asym MSE per-channel"
else
  shot gui_train "panel=train"
fi
# Presenter mode at 1280x720 shows one part of a panel at a time: here the confusion matrix (view 2).
[[ $presenter -eq 1 ]] || shot gui_presenter_ja "panel=eval&view=2&wb=4&ab=4&lang=ja&fs=2&hc=1"

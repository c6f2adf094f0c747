#!/usr/bin/env bash
# screenshots_gui.sh: regenerates docs/img/gui_*.png, the README's pictures of quantlab-gui's panels, by
# running the app under Xvfb with a state string per picture and its own --screenshot (the window's pixels,
# taken once evaluation has finished). Usage, from anywhere:
#   scripts/screenshots_gui.sh [path/to/quantlab-gui]      (default: build/gui/native/gui/quantlab-gui)
# Needs xvfb and xdotool (scripts/setup.sh installs them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gui="${1:-$root/build/gui/native/gui/quantlab-gui}"
out="$root/docs/img"
[[ -x "$gui" ]] || { echo "screenshots_gui: $gui is not built (cmake --build build/gui --target quantlab-gui)" >&2; exit 1; }
mkdir -p "$out"

# A free X display number.
display=""
for n in $(seq 90 120); do
  if [[ ! -e /tmp/.X$n-lock && ! -e /tmp/.X11-unix/X$n ]]; then display=":$n"; break; fi
done
[[ -n "$display" ]] || { echo "screenshots_gui: no free X display" >&2; exit 1; }
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
logs="$(mktemp -d)"
trap 'kill $xvfb 2>/dev/null || true; rm -rf "$logs"' EXIT
for _ in $(seq 50); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done
export DISPLAY="$display"
# The pointer starts mid-screen, where it would open hover read-outs: park it in the bottom-right corner.
xdotool mousemove 1279 799 2>/dev/null || true

shot() {  # name state-string
  local name="$1" state="$2"
  "$gui" --state "$state" --screenshot "$out/$name.png" --screenshot-when-idle --screenshot-after 30 \
         --quit-after-screenshot --no-vsync >/dev/null 2>"$logs/$name.log" || { cat "$logs/$name.log" >&2; exit 1; }
  echo "wrote docs/img/$name.png"
}

shot gui_quantizer   "panel=quantizer&lb=3"
shot gui_quantizer_weights "panel=quantizer&lab=weight&ll=1&lb=4&lr=meanstd&lk=2&lpc=1&lch=5&ste=clipped"
shot gui_network     "panel=network&wb=4&ab=4&nl=1"
shot gui_eval        "panel=eval&wb=3&ab=3"
shot gui_train       "panel=train"
shot gui_presenter_ja "panel=eval&wb=4&ab=4&lang=ja&fs=1.5&hc=1&flip=1"

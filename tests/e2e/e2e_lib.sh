# e2e_lib.sh: what the quantlab-gui end-to-end scripts share (sourced, not run): a scratch folder and an
# artifacts folder, fail/pass, tool checks, an Xvfb display of their own, and reading the app's status file.
# The sourcing script sets app_pid (the app's process) and status (its --status-file) before using
# field/wait_for.

# e2e_begin ARTIFACTS_DIR: fresh artifacts folder, scratch folder $tmp, cleanup of app and Xvfb on exit.
e2e_begin() {
  art="$1"
  rm -rf "$art" && mkdir -p "$art"
  tmp="$(mktemp -d)"
  app_pid="" xvfb_pid="" load_pids=()
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  stop_cpu_load
  [[ -n "$app_pid" ]] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  [[ -n "$xvfb_pid" ]] && kill "$xvfb_pid" 2>/dev/null
  rm -rf "$tmp"
}
fail() { echo "FAIL: $*"; [[ -f "$tmp/app.log" ]] && { echo "--- app log"; tail -20 "$tmp/app.log"; }; exit 1; }
pass() { echo "ok: $*"; }
require_tools() {
  for tool in "$@"; do command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup.sh installs xvfb, xdotool, imagemagick)"; done
}

# start_cpu_load SECONDS / stop_cpu_load: one busy process per core, each ending by itself after SECONDS at
# most, so that key presses are tested on a loaded machine (ctest's other suites, a presenter's busy laptop).
start_cpu_load() {
  local _
  for _ in $(seq "$(nproc)"); do timeout "$1" sh -c 'while :; do :; done' & load_pids+=($!); done
}
stop_cpu_load() {
  [[ ${#load_pids[@]} -gt 0 ]] || return 0
  kill "${load_pids[@]}" 2>/dev/null
  wait "${load_pids[@]}" 2>/dev/null
  load_pids=()
}

# start_xvfb FIRST LAST: a 1280x800 X display of our own, the first free one in :FIRST..:LAST; exports DISPLAY.
start_xvfb() {
  local display="" n
  for n in $(seq "$1" "$2"); do
    if [[ ! -e /tmp/.X$n-lock && ! -e /tmp/.X11-unix/X$n ]]; then display=":$n"; break; fi
  done
  [[ -n "$display" ]] || fail "no free X display"
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do xdpyinfo -display "$display" >/dev/null 2>&1 && break; sleep 0.1; done
  xdpyinfo -display "$display" >/dev/null 2>&1 || fail "Xvfb $display did not start: $(cat "$tmp/xvfb.log")"
  export DISPLAY="$display"
}

# check_screenshot FILE: a 1280x800 picture that shows a drawn UI, not a blank window (grey spread, colours).
check_screenshot() {
  local shot="$1" size sd colors
  size="$(identify -format '%w %h' "$shot")"
  [[ "$size" == "1280 800" ]] || fail "$(basename "$shot") is $size, expected 1280 800"
  sd="$(convert "$shot" -colorspace Gray -format '%[fx:standard_deviation]' info:)"
  colors="$(convert "$shot" -format '%k' info:)"
  python3 -c "import sys; sys.exit(0 if float('$sd') > 0.05 and int('$colors') > 100 else 1)" ||
    fail "$(basename "$shot") looks blank (grey std $sd, $colors colours)"
}

# field A.B.0.C: one field of the status file (list entries by index; python3, no jq needed)
field() { python3 -c "import json,sys; d=json.load(open('$status')); v=d; [v:=(v[int(k)] if isinstance(v, list) else v[k]) for k in sys.argv[1].split('.')]; print(v)" "$1" 2>/dev/null; }
# wait_for PYTHON-EXPR SECONDS: until the expression over the status dict `d` holds (fails if the app exits)
wait_for() {
  local expr="$1" secs="$2"
  for _ in $(seq $((secs * 10))); do
    kill -0 "$app_pid" 2>/dev/null || fail "quantlab-gui exited (waiting for: $expr)"
    if [[ -f "$status" ]] && python3 -c "import json; d=json.load(open('$status')); exit(0 if ($expr) else 1)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  fail "timed out after ${secs}s waiting for: $expr (status: $(cat "$status" 2>/dev/null))"
}

#!/usr/bin/env bash
# gui_e2e.sh: quantlab-gui end to end under Xvfb. Starts the app on the bundled weights and sample (plus a
# deliberately bad file, which must give a message, not a crash), drives it with xdotool (a key lowers the
# bits, others switch panels; each pressed once while every core is busy), and checks what it shows: the status file (accuracy and predictions hash equal
# `quantlab eval`'s for the same setting, the panel, the error message), a screenshot taken with
# `import -window root` (size, not blank, the panels' pixels differ), and frame times while evaluating; then
# the test set it evaluates on: a bad --data folder gives a banner and the bundled sample, and the full
# test set ($QUANTLAB_E2E_DATA, passed as $QUANTLAB_DATA) is evaluated as `quantlab eval` does.
# Usage: gui_e2e.sh QUANTLAB_GUI [QUANTLAB_CLI] ASSETS_DIR      (CTest: e2e:gui; artifacts in ./e2e_gui/)
set -uo pipefail
gui="$1"
if [[ $# -ge 3 ]]; then cli="$2"; assets="$3"; else cli=""; assets="$2"; fi
source "$(dirname "${BASH_SOURCE[0]}")/e2e_lib.sh"
e2e_begin "$PWD/e2e_gui"
require_tools Xvfb xdpyinfo xdotool import identify convert python3
start_xvfb 77 110

# A file that is neither weights nor CIFAR-10: the app must say so and keep running.
printf 'this is not a weights file' >"$tmp/bad.safetensors"

status="$tmp/status.json"
# Neither $QUANTLAB_DATA nor a cached data set: the app starts on the bundled sample (section 6 sets them).
e2e_data="${QUANTLAB_E2E_DATA:-}"
unset QUANTLAB_DATA
export XDG_CACHE_HOME="$tmp/cache"
"$gui" --assets "$assets" --state "panel=eval" --open "$tmp/bad.safetensors" --status-file "$status" --frame-stats \
       --no-vsync >"$tmp/app.log" 2>&1 &
app_pid=$!

# ---- 1. starts on the bundled files; the bad file is reported, nothing crashed
wait_for "d['done'] and d['bits'] == 4 and d['evaluated'] == d['total'] == 1000" 90
pass "evaluated the bundled sample at 4 bits: $(field accuracy) %"
[[ "$(field data_label)" == "bundled sample (1,000)" ]] || fail "status line data: '$(field data_label)', expected 'bundled sample (1,000)'"
err="$(field error)"
[[ "$err" == *"bad.safetensors"* ]] || fail "the bad file gave no message naming it (error: '$err')"
pass "bad file reported: ${err:0:100}..."
[[ "$(field weights)" == "notebook_pretrain.safetensors" ]] || fail "weights changed after the bad file: $(field weights)"

# Expected numbers from the command line on the same data (batch 128, file order, dynamic ranges).
expect_acc() { python3 -c "import json,sys; r=json.load(open('$tmp/cli.json'))['results']; print([x for x in r if x['weight_bits']==int(sys.argv[1])][0][sys.argv[2]])" "$1" "$2"; }
if [[ -n "$cli" && -x "$cli" ]]; then
  mkdir -p "$tmp/data" && ln -s "$(cd "$assets" && pwd)/cifar10_test_1000.bin" "$tmp/data/test_batch.bin"
  "$cli" eval --data "$tmp/data" --bits 4,3 --json >"$tmp/cli.json" 2>"$tmp/cli.log" || fail "quantlab eval failed: $(cat "$tmp/cli.log")"
  [[ "$(field predictions_fnv1a64)" == "$(expect_acc 4 predictions_fnv1a64)" ]] ||
    fail "4-bit predictions differ from quantlab eval: $(field predictions_fnv1a64) vs $(expect_acc 4 predictions_fnv1a64)"
  pass "4-bit predictions hash equals quantlab eval's ($(field predictions_fnv1a64))"
fi
import -window root "$art/eval_4bit.png" || fail "import -window root failed"

# ---- 2. a key lowers the bits; accuracy changes and is re-evaluated
win="$(xdotool search --name QuantLab | head -1)"
[[ -n "$win" ]] || fail "no QuantLab window on $display"
xdotool mousemove --window "$win" 5 790   # park the pointer where it opens no tooltip
acc4="$(field accuracy)"
# Each key is pressed once, down and up at once, while every core is busy: the app queues key events and
# hands ImGui the press and the release in different frames (ui/input_queue.hpp), so none is lost.
start_cpu_load 120
xdotool key Down
wait_for "d['bits'] == 3" 60
stop_cpu_load
wait_for "d['done'] and d['bits'] == 3 and d['evaluated'] == 1000" 60
acc3="$(field accuracy)"
[[ "$acc3" != "$acc4" ]] || fail "accuracy did not change with the bits ($acc4 -> $acc3)"
pass "Down key: 4 -> 3 bits, accuracy $acc4 % -> $acc3 %"
if [[ -n "$cli" && -x "$cli" ]]; then
  [[ "$(field predictions_fnv1a64)" == "$(expect_acc 3 predictions_fnv1a64)" ]] || fail "3-bit predictions differ from quantlab eval"
  pass "3-bit predictions hash equals quantlab eval's; accuracy $(expect_acc 3 accuracy) %"
fi
sleep 0.5
import -window root "$art/eval_3bit.png" || fail "import failed"

# ---- 3. panels by keyboard: Right = next panel, '1' = the quantizer lab; Up raises the lab's bits
start_cpu_load 120
xdotool key Right
wait_for "d['panel'] == 'train'" 60
pass "Right key: panel eval -> train"
xdotool type 1
wait_for "d['panel'] == 'quantizer'" 60
lab="$(field lab_bits)"
xdotool key Up
wait_for "d['lab_bits'] == $((lab + 1))" 60
stop_cpu_load
pass "'1' -> quantizer lab; Up key: lab bits $lab -> $((lab + 1))"
sleep 0.5
import -window root "$art/quantizer.png" || fail "import failed"
# Presenter mode (fonts rebaked at 2x, high contrast) and Japanese, by keyboard.
start_cpu_load 120
xdotool type p
wait_for "d['presenter']" 60
xdotool type l
wait_for "d['lang'] == 'ja'" 60
stop_cpu_load
sleep 1
import -window root "$art/presenter_ja.png" || fail "import failed"
pass "P -> presenter mode, L -> Japanese"

# ---- 4. the screenshots show a drawn UI
for shot in eval_4bit eval_3bit quantizer presenter_ja; do
  check_screenshot "$art/$shot.png"
done
pass "screenshots 1280x800, not blank"
# Different bits and panels draw different pixels (the views really changed).
diff_34="$(compare -metric AE "$art/eval_4bit.png" "$art/eval_3bit.png" null: 2>&1 || true)"
diff_q="$(compare -metric AE "$art/eval_3bit.png" "$art/quantizer.png" null: 2>&1 || true)"
python3 -c "import sys; sys.exit(0 if float('${diff_34%% *}') > 1000 and float('${diff_q%% *}') > 50000 else 1)" ||
  fail "screens did not change enough (4->3 bits: $diff_34 px, eval->quantizer: $diff_q px)"
pass "pixels changed: 4->3 bits $diff_34 px, eval->quantizer $diff_q px"

# ---- 5. frame times while evaluating (the app's own code must stay far below 33 ms)
kill "$app_pid" && wait "$app_pid" 2>/dev/null
app_pid=""
grep -A3 "frame work time" "$tmp/app.log" || true
python3 - "$status" <<'EOF' || fail "frame times"
import json, sys
f = json.load(open(sys.argv[1]))["frame_ms"]
ev, app = f["evaluating"], f["evaluating_app_only"]
print(f"frames while evaluating: {ev['frames']}, median {ev['median_ms']} ms, max {ev['max_ms']} ms "
      f"(app code only: median {app['median_ms']} ms, max {app['max_ms']} ms)")
sys.exit(0 if ev["frames"] > 0 and app["median_ms"] < 33 else 1)
EOF
cp "$status" "$art/status.json"

# ---- 6. the test set: a bad --data folder -> banner + the bundled sample; the full test set when found
status="$tmp/status_data.json"
"$gui" --assets "$assets" --data "$tmp/no_such_folder" --status-file "$status" --no-vsync >"$tmp/app.log" 2>&1 &
app_pid=$!
wait_for "d['done'] and d['total'] == 1000 and 'no_such_folder' in d['error']" 90
[[ "$(field data_label)" == "bundled sample (1,000)" ]] || fail "bad folder: data '$(field data_label)'"
pass "bad --data folder: banner '$(field error | cut -c1-90)...', evaluated the bundled sample"
kill "$app_pid" && wait "$app_pid" 2>/dev/null
app_pid=""
if [[ -n "$e2e_data" && -f "$e2e_data/test_batch.bin" && -n "$cli" && -x "$cli" ]]; then
  status="$tmp/status_full.json"
  QUANTLAB_DATA="$e2e_data" "$gui" --assets "$assets" --status-file "$status" --no-vsync >"$tmp/app.log" 2>&1 &
  app_pid=$!
  "$cli" eval --data "$e2e_data" --bits 4 --json >"$tmp/cli_full.json" 2>"$tmp/cli.log" || fail "quantlab eval failed: $(cat "$tmp/cli.log")"
  wait_for "d['done'] and d['bits'] == 4 and d['evaluated'] == d['total'] == 10000" 200
  [[ "$(field data_label)" == "full test set (10,000)" ]] || fail "full test set: data '$(field data_label)'"
  want="$(python3 -c "import json; print([x for x in json.load(open('$tmp/cli_full.json'))['results'] if x['weight_bits'] == 4][0]['predictions_fnv1a64'])")"
  [[ "$(field predictions_fnv1a64)" == "$want" ]] || fail "full test set: predictions $(field predictions_fnv1a64) vs quantlab eval's $want"
  pass "\$QUANTLAB_DATA: evaluated the full test set (10,000) at 4 bits, $(field accuracy) %, predictions equal quantlab eval's"
  kill "$app_pid" && wait "$app_pid" 2>/dev/null
  app_pid=""
else
  echo "note: no full test set at '\$QUANTLAB_E2E_DATA' (or no quantlab CLI): the full-test-set check is skipped"
fi
echo "PASS: e2e:gui (artifacts in $art)"

#!/usr/bin/env bash
# gui_train_core_e2e.sh: quantlab-gui trains with core's engine (--engine core, no LibTorch used) end to end under
# Xvfb. One tiny 4-bit QAT run queued at launch (--train, --train-limit 320: 256 training and 64 validation images,
# 8 steps of 32) must read the data folder's data_batch_1..5.bin when it asks for them, train on the worker thread,
# finish with a lower loss than its first step's and report the test accuracy on the app's test set; the app then
# exits cleanly on SIGTERM. The data folder is a copy in links, with a test_batch.bin of the first 1,000 test images:
# core's runs are tested on the app's whole test set, and 10,000 images twice would be most of the test's time.
# A data folder without training files fails the run with a message naming the folder; bad --engine / --train
# values exit 2 before any window opens.
# Usage: gui_train_core_e2e.sh QUANTLAB_GUI ASSETS_DIR DATA_DIR   (CTest: e2e:gui_train_core; artifacts in ./e2e_gui_train_core/)
set -uo pipefail
gui="$1" assets="$2" data="$3"
source "$(dirname "${BASH_SOURCE[0]}")/e2e_lib.sh"
for f in data_batch_{1..5}.bin test_batch.bin; do
  if [[ ! -f "$data/$f" ]]; then echo "SKIP: no CIFAR-10 data in $data ($f)"; exit 77; fi
done
e2e_begin "$PWD/e2e_gui_train_core"
require_tools Xvfb xdpyinfo python3

# ---- 1. options checked before a window opens
"$gui" --engine tensorflow >"$tmp/bad.log" 2>&1; rc=$?
[[ $rc == 2 ]] && grep -q "engine must be core or torch" "$tmp/bad.log" || fail "--engine tensorflow: exit $rc, $(cat "$tmp/bad.log")"
"$gui" --engine core --train "init=other.safetensors" >"$tmp/bad.log" 2>&1; rc=$?
[[ $rc == 2 ]] && grep -q -- "--open other.safetensors" "$tmp/bad.log" || fail "--engine core with init=FILE: exit $rc, $(cat "$tmp/bad.log")"
"$gui" --engine core --train "epochs=0" >"$tmp/bad.log" 2>&1; rc=$?
[[ $rc == 2 ]] && grep -q "epochs=0: bad value" "$tmp/bad.log" || fail "--train epochs=0: exit $rc, $(cat "$tmp/bad.log")"
pass "bad --engine, init=FILE with core, bad --train value: exit 2 with a message"

start_xvfb 171 200

# ---- 2. a run on core's engine: data read when asked, trained, tested
mkdir -p "$tmp/data"
ln -s "$data"/data_batch_{1..5}.bin "$tmp/data/"
head -c $((1000 * 3073)) "$data/test_batch.bin" >"$tmp/data/test_batch.bin"
status="$tmp/status.json"
"$gui" --engine core --assets "$assets" --data "$tmp/data" --state "panel=train" --status-file "$status" --no-vsync \
       --train-limit 320 --train "epochs=1,batch=32,qat=1,wb=4,ab=4,label=W4A4 core" >"$tmp/app.log" 2>&1 &
app_pid=$!
wait_for "d['training']['engine'] == 'core' and len(d['training']['runs']) == 1" 30
pass "training panel on the core engine with 1 run"
wait_for "d['training']['runs'][0]['state'] in ('finished', 'failed')" 120
cp "$status" "$art/status.json"
python3 - "$status" <<'EOF_PY' || fail "run results"
import json, sys
t = json.load(open(sys.argv[1]))["training"]
r = t["runs"][0]
print(f"run {r['id']}: {r['state']}, {r['steps']} steps, epoch {r['epoch']}, loss {r['first_loss']:.4f} -> {r['loss']:.4f}, "
      f"val {r['val']:.2f} %, test {r['test']:.2f} % (before: {r['ptq_test']:.2f} %), {r['images_per_s']:.0f} img/s; {r['message']}")
print(f"training images: {t['train_images']} ({t['data']})")
checks = {
    "finished": r["state"] == "finished",
    "8 steps, 1 epoch": r["steps"] == 8 and abs(r["epoch"] - 1.0) < 1e-9,
    "all five training files read": t["train_images"] == 50000 and t["data"].startswith("data_batch_1..5.bin in "),
    "the loss fell": 0 <= r["loss"] < r["first_loss"],
    "validation and test accuracy above chance": r["val"] > 10 and r["test"] > 10 and r["ptq_test"] > 10,
    "test accuracy on the folder's test_batch.bin in the message": "test accuracy" in r["message"] and "1000 test images" in r["message"],
}
for k, ok in checks.items():
    print(("ok   " if ok else "FAIL ") + k)
sys.exit(0 if all(checks.values()) else 1)
EOF_PY
pass "the run finished: loss fell, validation and test accuracy reported"
kill -TERM "$app_pid"
wait "$app_pid"; rc=$?
app_pid=""
[[ $rc == 0 ]] || fail "quantlab-gui exited with $rc on SIGTERM"
pass "clean exit on SIGTERM"

# ---- 3. no training files in the data folder: the run fails, naming the folder
mkdir -p "$tmp/no-train"
ln -s "$data/test_batch.bin" "$tmp/no-train/test_batch.bin"
"$gui" --engine core --assets "$assets" --data "$tmp/no-train" --state "panel=train" --status-file "$status" --no-vsync \
       --train "epochs=1" >"$tmp/app.log" 2>&1 &
app_pid=$!
wait_for "d['training']['engine'] == 'core' and len(d['training']['runs']) == 1 and d['training']['runs'][0]['state'] == 'failed'" 30
msg="$(field training.runs.0.message)"
[[ "$msg" == *"$tmp/no-train"* && "$msg" == *"data_batch_1.bin"* ]] || fail "failure message: $msg"
pass "missing training files: $msg"
echo "PASS: e2e:gui_train_core (artifacts in $art)"

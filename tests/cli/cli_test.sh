#!/usr/bin/env bash
# cli_test.sh: end-to-end checks of the `quantlab` command line: exit codes, messages that name the bad
# file, and numbers that must equal the golden PyTorch figures. Usage: cli_test.sh QUANTLAB CASE
set -u
q=$1; case_name=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=${QUANTLAB_TEST_DATA:-$root/../shared/data/cifar-10-batches-bin}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$tmp/out; err=$tmp/err

expect_fail() {  # expect_fail "substring of stderr" -- args...
  local want=$1; shift
  if "$q" "$@" >"$out" 2>"$err"; then echo "FAIL: '$*' exited 0"; cat "$out"; exit 1; fi
  grep -qF -- "$want" "$err" || { echo "FAIL: stderr of '$*' lacks '$want':"; cat "$err"; exit 1; }
  echo "ok: '$*' -> $(head -c 300 "$err")"
}

case $case_name in
  help)
    for sub in eval sweep sensitivity mixed info convert "data fetch" "data check" train export; do
      $q $sub --help >"$out" 2>&1 || { echo "FAIL: $sub --help"; exit 1; }
      grep -q "Usage" "$out" || { echo "FAIL: $sub --help has no usage"; cat "$out"; exit 1; }
    done; echo "ok: every subcommand has --help" ;;
  bad-input)
    printf 'not a model' >"$tmp/garbage.safetensors"
    head -c 5000 "$root/assets/notebook_pretrain.safetensors" >"$tmp/truncated.safetensors"
    head -c 100000 "$data/test_batch.bin" >"$tmp/test_batch.bin"
    expect_fail "garbage.safetensors" eval --weights "$tmp/garbage.safetensors"
    expect_fail "truncated.safetensors" eval --weights "$tmp/truncated.safetensors"
    expect_fail "NaN" eval --weights "$root/tests/data/tiny_nan.pth"
    expect_fail "cannot open" eval --weights "$tmp/missing.pth"
    expect_fail "test_batch.bin" eval --data "$tmp" --bits 8
    expect_fail "not a bit width" eval --bits 0
    expect_fail "not a bit width" eval --bits 17
    expect_fail "not a bit width" eval --bits 4,x
    expect_fail "unknown 'max'" eval --rule max --limit 10
    expect_fail "expected dynamic" eval --mode sometimes --limit 10
    expect_fail "unknown 'wide', expected narrow" eval --codes wide --limit 10
    expect_fail "--cutout: 40 is not a square side" train --cutout 40 --max-steps 1
    expect_fail "--cutout: -1" train --cutout -1 --max-steps 1
    expect_fail "--color-jitter: 1.5" train --color-jitter 1.5 --max-steps 1
    expect_fail "--color-jitter" train --color-jitter x --max-steps 1
    expect_fail "missing tensor" convert "$root/tests/data/tiny.pth" "$tmp/x.safetensors"
    [ ! -e "$tmp/x.safetensors" ] || { echo "FAIL: a failed convert left a file"; exit 1; } ;;
  eval-golden)
    # The first 1,000 test images (the bundled sample) against PyTorch's predictions: 666 / 664 / 566 / 280 / 105.
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    "$q" eval --data "$tmp/d" --bits 32,8,4,3,2 --json >"$out" 2>"$err" || { cat "$err"; exit 1; }
    got=$(python3 -c 'import json,sys; print(" ".join(str(r["correct"]) for r in json.load(open(sys.argv[1]))["results"]))' "$out")
    [ "$got" = "666 664 566 280 105" ] || { echo "FAIL: correct counts $got, expected 666 664 566 280 105"; exit 1; }
    echo "ok: eval on the bundled sample = PyTorch's counts ($got)"
    # --codes full (2^b codes, the printed formula) against PyTorch's MinMaxObserver + fake_quantize on the same
    # images (tests/golden/quantizer_full.json).
    "$q" eval --data "$tmp/d" --bits 8,4,3,2 --codes full --json >"$out" 2>"$err" || { cat "$err"; exit 1; }
    python3 - "$out" "$root/tests/golden/quantizer_full.json" <<'PY' || exit 1
import json, sys
j, g = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["net_first1000_correct"]
assert j["codes"] == "full", j["codes"]
got = {str(r["weight_bits"]): r["correct"] for r in j["results"]}
assert got == g, f"--codes full correct counts {got}, PyTorch's {g}"
print(f"ok: eval --codes full on the bundled sample = PyTorch's full-codes counts {got}")
PY
    ;;
  convert-roundtrip)
    "$q" convert "$root/../shared/seed/pretrain.pth" "$tmp/p.safetensors" >"$out" 2>"$err" || { cat "$err"; exit 1; }
    "$q" info "$tmp/p.safetensors" --json >"$out" || exit 1
    python3 - "$out" <<'PY' || exit 1
import json, sys
j = json.load(open(sys.argv[1]))
names = [t["name"] for t in j["tensors"]]
assert len(names) == 20 and "conv1.weight" in names and "fc3.bias" in names, names
assert j["metadata"]["quantlab_format_version"] == "1", j["metadata"]
assert j["model_check"] == "ok", j["model_check"]
dt = {t["name"]: t["dtype"] for t in j["tensors"]}
assert dt["bn1.num_batches_tracked"] == "I64", dt
# info's size: 257,214 float32 values; at 4 bits 256,520 weights take 128,260 B, biases and batch norm stay float32.
size = j["size"]
assert size["float_bytes"] == 1028856 and size["bytes"]["4"] == 131036 and size["bytes"]["32"] == 1028856, size
assert [l["name"] for l in size["layers"]] == ["conv1", "conv2", "fc1", "fc2", "fc3"], size["layers"]
assert size["layers"][2]["bytes"]["2"] == 48000 + 4 * 120, size["layers"][2]
print("ok: convert .pth -> safetensors keeps 20 tensors, I64 counters, metadata; info's size 1,028,856 B float, 131,036 B at 4 bits")
PY
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    a=$("$q" eval --data "$tmp/d" --bits 4 --json --weights "$tmp/p.safetensors" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["predictions_fnv1a64"])')
    b=$("$q" eval --data "$tmp/d" --bits 4 --json --weights "$root/../shared/seed/pretrain.pth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["predictions_fnv1a64"])')
    [ "$a" = "$b" ] || { echo "FAIL: predictions differ after convert ($a vs $b)"; exit 1; }
    echo "ok: converted weights give identical predictions ($a)" ;;
  sweep)
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    "$q" sweep --data "$tmp/d" --weight-bits 32,4 --act-bits 32,4 --limit 256 -o "$tmp/s.csv" 2>"$err" || { cat "$err"; exit 1; }
    [ "$(wc -l <"$tmp/s.csv")" = 5 ] || { echo "FAIL: sweep csv"; cat "$tmp/s.csv"; exit 1; }
    head -1 "$tmp/s.csv" | grep -q "weight_bits,act_bits,accuracy" || exit 1
    echo "ok: sweep 2x2 grid -> $(tr '\n' ' ' <"$tmp/s.csv")" ;;
  static)
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    for backend in fast integer; do
      "$q" eval --data "$tmp/d" --bits 8 --mode static --calib 256 --backend $backend --json >"$tmp/$backend.json" 2>"$err" || { cat "$err"; exit 1; }
    done
    python3 - "$tmp/fast.json" "$tmp/integer.json" <<'PY' || exit 1
import json, sys
a, b = (json.load(open(p))["results"][0] for p in sys.argv[1:])
assert a["correct"] > 600, a          # 8-bit static stays near float (666 of 1000)
assert a["predictions_fnv1a64"] == b["predictions_fnv1a64"], (a, b)
print("ok: static 8-bit fake-quant and integer predictions identical,", a["correct"], "of 1000")
PY
    ;;
  sensitivity)
    # Every case's count equals `quantlab eval` of the same setting written out with --layer-bits.
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    "$q" sensitivity --data "$tmp/d" --bits 3 --limit 256 --json >"$out" 2>"$err" || { cat "$err"; exit 1; }
    "$q" eval --data "$tmp/d" --bits 32,3 --limit 256 --json >"$tmp/e.json" 2>"$err" || { cat "$err"; exit 1; }
    "$q" eval --data "$tmp/d" --bits 3 --layer-bits fc1=8 --limit 256 --json >"$tmp/e_fc1.json" 2>"$err" || { cat "$err"; exit 1; }
    "$q" eval --data "$tmp/d" --bits 3 --layer-bits conv1=32,fc1=32,fc2=32,fc3=32 --limit 256 --json >"$tmp/e_conv2.json" 2>"$err" || { cat "$err"; exit 1; }
    python3 - "$out" "$tmp/e.json" "$tmp/e_fc1.json" "$tmp/e_conv2.json" <<'PY' || exit 1
import json, sys
s, e, fc1, conv2 = (json.load(open(p)) for p in sys.argv[1:])
rows = {(r["mode"], r["layer"]): r["correct"] for r in s["results"] if r["bits"] in (3, 32)}
assert len(s["results"]) == 1 + 1 + 2 * 5, len(s["results"])
assert s["results"][0]["correct"] == e["results"][0]["correct"], "float"
assert rows[("all-but", "-")] == e["results"][1]["correct"], "uniform 3-bit"
assert rows[("all-but", "fc1")] == fc1["results"][0]["correct"], "all but fc1"
assert rows[("only", "conv2")] == conv2["results"][0]["correct"], "only conv2"
print("ok: sensitivity float / uniform / all-but-fc1 / only-conv2 =", s["results"][0]["correct"], rows[("all-but", "-")],
      rows[("all-but", "fc1")], rows[("only", "conv2")])
PY
    expect_fail "unknown part 'bogus'" sensitivity --part bogus --limit 10
    expect_fail "no conv/linear layer named 'conv9'" eval --layer-bits conv9=8 --limit 10
    expect_fail "'conv1=x'" sweep --layer-bits conv1=x --limit 10 ;;
  mixed)
    # Chosen on validation images (the training batches' held-out split), never on the test set: the chosen
    # setting fits the budget, has the best validation accuracy of all evaluated, and its reported test accuracy
    # equals `quantlab eval --layer-bits` of the same setting.
    [ -f "$data/data_batch_1.bin" ] || { echo "skipped: no CIFAR-10 training batches in $data"; exit 77; }
    "$q" mixed --data "$data" --val 300 --front 6 --widths 8,4,3 --budget-bits 4 --json >"$out" 2>"$err" || { cat "$err"; exit 1; }
    bits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["candidates"][0]["layer_bits"])' "$out")
    "$q" eval --data "$data" --bits 8 --layer-bits "$bits" --json >"$tmp/e.json" 2>"$err" || { cat "$err"; exit 1; }
    # `eval --val N` evaluates the same validation images: the chosen setting's validation accuracy again
    "$q" eval --data "$data" --val 300 --bits 8 --layer-bits "$bits" --json >"$tmp/v.json" 2>"$err" || { cat "$err"; exit 1; }
    python3 - "$out" "$tmp/e.json" "$tmp/v.json" <<'PY' || exit 1
import json, sys
m, e, v = (json.load(open(p)) for p in sys.argv[1:])
assert v["results"][0]["total"] == 300 and "validation images" in v["data"], v
assert abs(v["results"][0]["accuracy"] - m["candidates"][0]["val_accuracy"]) < 1e-9, (v["results"][0], m["candidates"][0])
c = m["candidates"]
assert c[0]["search"] == "chosen" and m["validation_images"] == 300, c[0]
assert all(x["bytes"] <= m["budget_bytes"] for x in c), c
evaluated = [x["val_accuracy"] for x in c] + [f["val_accuracy"] for f in m["front"] if f["bytes"] <= m["budget_bytes"]]
assert c[0]["val_accuracy"] == max(evaluated), (c[0], evaluated)
assert abs(c[0]["test_accuracy"] - e["results"][0]["accuracy"]) < 1e-9, (c[0], e["results"][0])
print("ok: mixed precision chose", c[0]["layer_bits"], "val %.2f %%, test %.2f %%" % (c[0]["val_accuracy"], c[0]["test_accuracy"]))
PY
    mkdir "$tmp/d" && cp "$root/assets/cifar10_test_1000.bin" "$tmp/d/test_batch.bin"
    # The shipped mixed-precision model: its own row says the bits differ by layer (0) and lists them.
    "$q" eval --data "$tmp/d" -w "$root/assets/qat_mixed_84kb.safetensors" --bits 32 --json >"$tmp/m.json" 2>"$err" || { cat "$err"; exit 1; }
    python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]
assert r["settings"] == "file (static)" and r["weight_bits"] == 0 and r["act_bits"] == 0, r
assert r["layer_bits"] == "conv1=8,conv2=4,fc1=2,fc2=4,fc3=4", r' "$tmp/m.json" || exit 1
    # and `info` gives its size: conv1 2,528 (8-bit) + conv2 25,856 + fc1 48,480 (2-bit) + fc2 5,376 + fc3 460
    # (4-bit) + batch norm 1,536 = 84,236 bytes (the per-layer rows of the same table)
    "$q" info --json "$root/assets/qat_mixed_84kb.safetensors" >"$tmp/i.json" 2>"$err" || { cat "$err"; exit 1; }
    python3 -c 'import json, sys; z = json.load(open(sys.argv[1]))["size"]
assert z["file_bytes"] == 84236 and z["file_layer_bits"] == "conv1=8,conv2=4,fc1=2,fc2=4,fc3=4", z' "$tmp/i.json" || exit 1
    expect_fail "never on the test set" mixed --data "$tmp/d"
    expect_fail "never on the test set" eval --data "$tmp/d" --val 10
    expect_fail "give one" eval --data "$data" --val 10 --limit 10 ;;
  cifar100)
    # CIFAR-100 on generated files (no real CIFAR-100 on the build machines): records of coarse label, fine
    # label and 3072 pixels; errors for the wrong dataset, and with LibTorch one training step of a 100-class model.
    mkdir "$tmp/c" "$tmp/c10"
    python3 - "$tmp/c" <<'PY' || exit 1
import os, random, sys
rng = random.Random(7)
def records(n):
    out = bytearray()
    for i in range(n):
        fine = rng.randrange(100)
        out += bytes([fine // 5, fine]) + bytes(rng.randrange(256) for _ in range(3072))
    return bytes(out)
open(os.path.join(sys.argv[1], "train.bin"), "wb").write(records(64))
open(os.path.join(sys.argv[1], "test.bin"), "wb").write(records(40))
PY
    head -c $((3073 * 8)) "$root/assets/cifar10_test_1000.bin" >"$tmp/c10/test.bin"
    cp "$tmp/c10/test.bin" "$tmp/c10/train.bin"
    printf 'not an archive' >"$tmp/bad.tar.gz"
    expect_fail "unknown 'imagenet'" eval --dataset imagenet --limit 10
    expect_fail "10 outputs but CIFAR-100 has 100 classes" eval --dataset cifar100 --data "$tmp/c"
    expect_fail "unknown 'imagenet'" sweep --dataset imagenet --limit 10
    expect_fail "10 outputs but CIFAR-100 has 100 classes" sweep --dataset cifar100 --data "$tmp/c"
    expect_fail "train.bin has 196736 bytes, expected 153700000" data check --dataset cifar100 --data "$tmp/c"
    expect_fail "03b5dce01913d631647c71ecec9e9cb8" data fetch --dataset cifar100 --archive "$tmp/bad.tar.gz" --data "$tmp/fetched"
    mkdir "$tmp/c100as10" && cp "$tmp/c/test.bin" "$tmp/c100as10/test_batch.bin"
    expect_fail "use --dataset cifar100" eval --data "$tmp/c100as10" --bits 8
    if ! "$q" train --help 2>&1 | grep -q "default: torch"; then echo "ok: no LibTorch in this build; the training step is skipped"; exit 0; fi
    expect_fail "10 outputs but CIFAR-100 has 100 classes" train --dataset cifar100 --init "$root/assets/notebook_pretrain.safetensors" \
      --data "$tmp/c" --device cpu --checkpoint-dir '' -q
    expect_fail "looks like a CIFAR-10" train --dataset cifar100 --data "$tmp/c10" --device cpu --checkpoint-dir '' -q
    "$q" train --dataset cifar100 --data "$tmp/c" --limit-train 32 --batch 16 --epochs 1 --max-steps 1 --val-fraction 0 --bits 32 \
      --calib 16 --device cpu --threads 2 --checkpoint-dir '' --export "$tmp/m100.safetensors" -q >"$out" 2>"$err" || { cat "$err"; exit 1; }
    "$q" info "$tmp/m100.safetensors" --json >"$out" || exit 1
    "$q" eval --dataset cifar100 --data "$tmp/c" --weights "$tmp/m100.safetensors" --bits 32,8 --per-class --json >"$tmp/e.json" 2>"$err" \
      || { cat "$err"; exit 1; }
    python3 - "$out" "$tmp/e.json" <<'PY' || exit 1
import json, sys
info, ev = (json.load(open(p)) for p in sys.argv[1:])
shapes = {t["name"]: t["shape"] for t in info["tensors"]}
assert shapes["fc3.weight"] == [100, 84] and shapes["fc3.bias"] == [100], shapes
assert info["metadata"]["dataset"] == "cifar100", info["metadata"]
assert "dataset cifar100" in info["metadata"]["trained_by"], info["metadata"]["trained_by"]
assert ev["dataset"] == "cifar100", ev.keys()
for r in ev["results"]:
    assert r["total"] == 40 and len(r["per_class_accuracy"]) == 100 and len(r["confusion"]) == 100 * 100, r.keys()
print("ok: trained 1 step on 100 classes: fc3", shapes["fc3.weight"], "; eval on 40 images:", [r["correct"] for r in ev["results"]])
PY
    expect_fail "looks like a CIFAR-10" eval --dataset cifar100 --data "$tmp/c10" --weights "$tmp/m100.safetensors"
    "$q" sweep --dataset cifar100 --data "$tmp/c" --weights "$tmp/m100.safetensors" --weight-bits 32,4 --act-bits 32 --format json \
      -o "$tmp/s.json" 2>"$err" || { cat "$err"; exit 1; }
    python3 - "$tmp/s.json" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1]))
assert s["dataset"] == "cifar100" and [r["total"] for r in s["results"]] == [40, 40], s
print("ok: sweep --dataset cifar100:", [(r["weight_bits"], r["correct"]) for r in s["results"]])
PY
    expect_fail "100 outputs but CIFAR-10 has 10 classes" sweep --weights "$tmp/m100.safetensors" --limit 10
    expect_fail "100 outputs but CIFAR-10 has 10 classes" eval --weights "$tmp/m100.safetensors" --limit 10
    expect_fail "100 outputs but CIFAR-10 has 10 classes" train --init "$tmp/m100.safetensors" --data "$tmp/c" --device cpu --checkpoint-dir '' -q
    ;;
  train-core)
    # `quantlab train --engine core` (no LibTorch): from the notebook weights at W4A4 (the notebook's quantizer) on
    # 2,000 training images (1,600 after the 80/20 split), one epoch of SGD: the exported model beats PTQ's 566/1000
    # on the bundled sample, read back by `quantlab eval` from the file's own settings.
    [ -f "$data/data_batch_1.bin" ] || { echo "skipped: no CIFAR-10 training batches in $data"; exit 77; }
    t0=$(date +%s)
    "$q" train --engine core --data "$data" --limit-train 2000 --epochs 1 --bits 4 --lr 0.005 --batch 32 --threads 2 --limit-test 1000 \
      --checkpoint-dir "$tmp/ck" --metrics "$tmp/m.csv" --export "$tmp/a.safetensors" >"$out" 2>"$err" || { cat "$err"; exit 1; }
    echo "trained in $(( $(date +%s) - t0 )) s: $(grep -E 'trained|test' "$out" | head -2 | tr -s ' ' | tr '\n' ';')"
    grep -q "^epoch 1/1  loss" "$err" || { echo "FAIL: no progress on stderr"; cat "$err"; exit 1; }
    [ -f "$tmp/ck/last.safetensors" ] || { echo "FAIL: no checkpoint"; exit 1; }
    head -1 "$tmp/m.csv" | grep -qx "epoch,iteration,step,lr,train_loss,train_acc,val_acc,images_per_s,elapsed_s" || { echo "FAIL: metrics header"; cat "$tmp/m.csv"; exit 1; }
    [ "$(wc -l <"$tmp/m.csv")" -eq 2 ] || { echo "FAIL: metrics rows"; cat "$tmp/m.csv"; exit 1; }
    "$q" eval --weights "$tmp/a.safetensors" --json >"$tmp/e.json" 2>"$err" || { cat "$err"; exit 1; }
    "$q" info "$tmp/a.safetensors" --json >"$tmp/i.json" || exit 1
    python3 - "$tmp/e.json" "$tmp/i.json" <<'PY' || exit 1
import json, sys
ev, info = (json.load(open(p)) for p in sys.argv[1:])
r = ev["results"][0]
meta = info["metadata"]
assert r["total"] == 1000, r
assert "core engine" in meta["source"] and "--engine core" in meta["trained_by"], meta
assert abs(float(meta["test_accuracy"]) - r["accuracy"]) < 0.006, (meta["test_accuracy"], r["accuracy"])
assert r["correct"] > 566, f"QAT with --engine core: {r['correct']}/1000, not above PTQ's 566/1000 at 4 bits"
print(f"ok: --engine core W4A4 QAT {r['correct']}/1000 on the bundled sample > PTQ 566/1000; eval = the file's test_accuracy {meta['test_accuracy']}")
PY
    # Determinism: the same seed gives byte-identical exports (augmentation on); another seed does not.
    for run in 1 2 3; do
      seed=1; [ $run -eq 3 ] && seed=2
      "$q" train --engine core --data "$data" --limit-train 300 --epochs 1 --batch 64 --augment crop,flip --cutout 8 --color-jitter 0.3 \
        --schedule cosine --seed $seed \
        --limit-test 100 --calib 100 --checkpoint-dir '' --export "$tmp/d$run.safetensors" -q >"$out" 2>"$err" || { cat "$err"; exit 1; }
    done
    cmp -s "$tmp/d1.safetensors" "$tmp/d2.safetensors" || { echo "FAIL: two runs with seed 1 differ"; exit 1; }
    ! cmp -s "$tmp/d1.safetensors" "$tmp/d3.safetensors" || { echo "FAIL: seeds 1 and 2 gave the same weights"; exit 1; }
    "$q" info "$tmp/d1.safetensors" --json | grep -q "augment crop+flip+jitter 0.3+cutout 8" || { echo "FAIL: the recipe lacks the augmentation"; exit 1; }
    echo "ok: same seed -> identical export ($(sha256sum <"$tmp/d1.safetensors" | head -c 16)); another seed differs"
    # Bad input: a learning rate that blows the loss up stops with a message and keeps the last good weights.
    expect_fail "training stopped" train --engine core --data "$data" --limit-train 300 --epochs 3 --batch 32 --lr 1e6 --checkpoint-dir "$tmp/nan" -q
    grep -qE "the loss became (NaN|infinite|non-finite)" "$err" || { echo "FAIL: the message does not say the loss diverged"; exit 1; }
    grep -qF "are kept in $tmp/nan/last.safetensors" "$err" || { echo "FAIL: the last good weights are not named"; exit 1; }
    "$q" eval --weights "$tmp/nan/last.safetensors" --bits 32 --limit 100 >"$out" 2>"$err" || { echo "FAIL: the kept weights do not evaluate"; cat "$err"; exit 1; }
    echo "ok: kept weights evaluate: $(grep -m1 -E '[0-9]+\.[0-9]+ ?%' "$out" | tr -s ' ')"
    expect_fail "is larger than the 80 training images" train --engine core --data "$data" --limit-train 100 --batch 200 --checkpoint-dir '' -q
    expect_fail "not a trainer checkpoint" train --engine core --data "$data" --resume "$tmp/a.safetensors" -q
    expect_fail "--engine must be core or torch" train --engine tpu --data "$data" -q ;;
  train-lsq)
    # --quantizer lsq / pact (learned steps, issue 16): a few steps from the notebook weights on each engine; the
    # exported file carries the learned steps as fixed scales and `quantlab eval` on it gives the accuracy the trainer
    # reported (static); with LibTorch the trainer's own forward agrees too. Bad names and float configs are refused.
    [ -f "$data/data_batch_1.bin" ] || { echo "skipped: no CIFAR-10 training batches in $data"; exit 77; }
    expect_fail "unknown 'lsqq'" train --engine core --quantizer lsqq --bits 4 --data "$data" --checkpoint-dir '' -q
    expect_fail "nothing to learn" train --engine core --quantizer lsq --bits 32 --data "$data" --checkpoint-dir '' -q
    expect_fail "nothing to learn" train --engine core --quantizer pact --weight-bits 4 --act-bits 32 --data "$data" --checkpoint-dir '' -q
    expect_fail "drop --asymmetric" train --engine core --quantizer lsq --bits 4 --asymmetric --data "$data" --checkpoint-dir '' -q
    engines="core"
    "$q" train --help 2>&1 | grep -q "default: torch" && engines="core torch"
    for engine in $engines; do
      for qz in lsq pact; do
        "$q" train --engine $engine --quantizer $qz --data "$data" --limit-train 160 --val-fraction 0.2 --epochs 1 --batch 32 --bits 3 \
          --lr 0.01 --threads 2 --device cpu --limit-test 300 --calib 100 --checkpoint-dir "$tmp/ck_$engine$qz" --export "$tmp/$engine$qz.safetensors" \
          >"$out" 2>"$err" || { cat "$err"; exit 1; }
        grep -q "$qz learned steps" "$err" || { echo "FAIL: the header does not name the learned quantizer"; cat "$err"; exit 1; }
        "$q" eval --weights "$tmp/$engine$qz.safetensors" --data "$data" --limit 300 --json >"$tmp/e.json" 2>"$err" || { cat "$err"; exit 1; }
        "$q" info "$tmp/$engine$qz.safetensors" --json >"$tmp/i.json" || exit 1
        python3 - "$tmp/e.json" "$tmp/i.json" "$out" "$qz" "$engine" <<'PY' || exit 1
import json, re, sys
ev, info = (json.load(open(p)) for p in sys.argv[1:3])
text, qz, engine = open(sys.argv[3]).read(), sys.argv[4], sys.argv[5]
r = ev["results"][0]
meta = info["metadata"]
qc = json.loads(meta["quant_config"])
assert r["total"] == 300, r
assert qc["act_mode"] == "static" and len(qc["act_scales"]) == 5 and all(s > 0 for s in qc["act_scales"]), qc
assert (len(qc.get("weight_scales", [])) == 5) == (qz == "lsq"), qc
assert "learned steps" in meta["quantization"], meta["quantization"]
# the inputs after a ReLU (conv2, fc1-fc3) learn unsigned codes [0, 2^3 - 1]: symmetric false, range [0, 7 S];
# conv1's input (the image) and the weights keep symmetric codes
acts = [l["act"] for l in qc["layers"]]
assert acts[0]["symmetric"] and not any(a["symmetric"] for a in acts[1:]), acts
assert all(l["weight"]["symmetric"] for l in qc["layers"]), qc["layers"]
for q in range(1, 5):
    lo, hi = qc["act_ranges"][q]
    assert lo == 0 and abs(hi - 7 * qc["act_scales"][q]) <= 1e-6 * hi, (q, lo, hi, qc["act_scales"][q])
reported = float(re.search(r"test\s+([0-9.]+) %", text).group(1))
assert abs(reported - r["accuracy"]) < 0.006 and abs(float(meta["test_accuracy"]) - r["accuracy"]) < 0.006, (reported, meta["test_accuracy"], r)
own = re.search(r"([0-9.]+) %  the trainer's own forward", text)
if own:  # LibTorch's forward with the same steps: the same predictions up to last-bit ties
    assert abs(float(own.group(1)) - r["accuracy"]) <= 1.0, (own.group(1), r["accuracy"])
print(f"ok: --engine {engine} --quantizer {qz} W3A3, 4 steps: eval of the export {r['accuracy']:.2f} % = reported {reported:.2f} %"
      + (f" (trainer's own forward {own.group(1)} %)" if own else ""))
PY
        # the checkpoint carries the steps too: eval on it reads them from its stored config
        "$q" eval --weights "$tmp/ck_$engine$qz/last.safetensors" --data "$data" --limit 50 >"$tmp/c.txt" 2>"$err" || { cat "$err"; exit 1; }
      done
    done
    for engine in $engines; do  # a checkpoint's learned steps are for its own quantizer
      expect_fail "written by a run with --quantizer lsq" train --engine $engine --quantizer pact --bits 3 --data "$data" --limit-train 160 \
        --batch 32 --epochs 2 --resume "$tmp/ck_${engine}lsq/last.safetensors" --device cpu -q
    done ;;
  train-resume)
    # --resume continues exactly (issue 15): on core's engine a run stopped (--stop-after, as Ctrl-C: once mid-epoch,
    # once at an epoch's end) and resumed twice exports the uninterrupted run's bytes, with SGD and a cosine schedule,
    # and with Adam and LSQ's learned steps, augmentation on (the skipped batches' draws are replayed). The
    # checkpoint's training state file is the LibTorch trainer's too: with LibTorch, a run stopped on one engine and
    # resumed on the other takes the step the run that stayed on the first takes (float SGD here; W4A4 with LSQ and
    # Adam: tests/unit/torch/test_cross_engine_resume.cpp).
    [ -f "$data/data_batch_1.bin" ] || { echo "skipped: no CIFAR-10 training batches in $data"; exit 77; }
    # 300 images: 240 train after the split, 8 steps per epoch of 32 (the last one 16), 16 steps in all.
    common=(--data "$data" --limit-train 300 --epochs 2 --batch 32 --threads 2 --device cpu --limit-test 100 --calib 100 -q)
    for v in "sgd" "adam"; do
      if [ $v = sgd ]; then rec=(--bits 4 --optimizer sgd --lr 0.01 --schedule cosine --augment crop,flip --cutout 8)
      else rec=(--bits 4 --optimizer adam --lr 0.001 --quantizer lsq --augment crop,flip --color-jitter 0.2); fi
      "$q" train --engine core "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/s$v" --export "$tmp/s$v.safetensors" >"$out" 2>"$err" || { cat "$err"; exit 1; }
      "$q" train --engine core "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/r$v" --stop-after 5 >"$out" 2>"$err"; rc1=$?
      "$q" train --engine core "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/r$v" --stop-after 3 --resume "$tmp/r$v/last.safetensors" >"$out" 2>"$err"; rc2=$?
      [ $rc1 -eq 130 ] && [ $rc2 -eq 130 ] || { echo "FAIL: --stop-after exited $rc1, $rc2 (130 expected)"; cat "$err"; exit 1; }
      grep -q "stopped (--stop-after) after 3 steps" "$err" || { echo "FAIL: --stop-after is not named as the reason"; cat "$err"; exit 1; }
      [ -f "$tmp/r$v/last.state.safetensors" ] || { echo "FAIL: no training state beside the checkpoint"; ls "$tmp/r$v"; exit 1; }
      "$q" info "$tmp/r$v/last.safetensors" --json | grep -q '"checkpoint_step": "8"' || { echo "FAIL: the second stop is not at step 8"; "$q" info "$tmp/r$v/last.safetensors" --json; exit 1; }
      "$q" train --engine core "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/r$v" --resume "$tmp/r$v/last.safetensors" --export "$tmp/r$v.safetensors" \
        >"$out" 2>"$err" || { cat "$err"; exit 1; }
      cmp -s "$tmp/s$v.safetensors" "$tmp/r$v.safetensors" || { echo "FAIL: $v: 5 steps + 3 steps + the rest differ from 16 steps straight"; exit 1; }
      cmp -s "$tmp/s$v/last.safetensors" "$tmp/r$v/last.safetensors" || { echo "FAIL: $v: the final checkpoints differ"; exit 1; }
      echo "ok: core $v ${rec[*]}: 5 + 3 + 8 steps (stop, resume, stop at the epoch's end, resume) = 16 straight, byte for byte"
    done
    expect_fail "written by a run with --optimizer adam" train --engine core "${common[@]}" --bits 4 --quantizer lsq --resume "$tmp/radam/last.safetensors"
    mkdir "$tmp/nostate" && cp "$tmp/radam/last.safetensors" "$tmp/nostate/"
    expect_fail "last.state.safetensors not found" train --engine core "${common[@]}" --bits 4 --optimizer adam --quantizer lsq --resume "$tmp/nostate/last.safetensors"
    # From scratch: seeded (the same seed, the same bytes; another seed, others), PyTorch's default init ranges.
    for run in a:1 b:1 c:2; do
      "$q" train --engine core --from-scratch --model wide:2 --seed ${run#*:} "${common[@]}" --bits 32 --stop-after 0 --checkpoint-dir "$tmp/fs${run%:*}" >"$out" 2>"$err"
      [ -f "$tmp/fs${run%:*}/last.safetensors" ] || { echo "FAIL: --from-scratch --stop-after 0 wrote no checkpoint"; cat "$err"; exit 1; }
    done
    python3 - "$tmp"/fs{a,b,c}/last.safetensors <<'PY' || exit 1
import json, math, struct, sys
def read(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]; raw = b[8 + n + s:8 + n + e]
        out[k] = (v["shape"], struct.unpack("<%d%s" % (len(raw) // (8 if v["dtype"] == "I64" else 4), "q" if v["dtype"] == "I64" else "f"), raw))
    return out
a, b, c = (read(p) for p in sys.argv[1:4])
assert a == b, "two from-scratch starts with seed 1 differ"
assert a["conv1.weight"] != c["conv1.weight"], "seeds 1 and 2 gave the same start"
for k, (shape, v) in a.items():
    if k.endswith(".weight") and len(shape) > 1 or (k.endswith(".bias") and not k.startswith("bn")):
        wshape = a[k.rsplit(".", 1)[0] + ".weight"][0]
        bound = 1 / math.sqrt(math.prod(wshape[1:]))
        assert max(abs(x) for x in v) <= bound and (len(v) < 100 or max(abs(x) for x in v) > 0.9 * bound), (k, bound, max(abs(x) for x in v))
        mean = sum(v) / len(v); var = sum((x - mean) ** 2 for x in v) / len(v)
        if len(v) > 1000: assert abs(var / (bound * bound / 3) - 1) < 0.1, (k, var, bound * bound / 3)
    elif k.startswith("bn"):
        want = {"weight": 1, "bias": 0, "running_mean": 0, "running_var": 1, "num_batches_tracked": 0}[k.rsplit(".", 1)[1]]
        assert all(x == want for x in v), k
print("ok: --from-scratch --model wide:2: seed 1 twice = the same start; seed 2 another; U(+-1/sqrt(fan_in)) weights and biases (variance within 10 %), BN 1/0")
PY
    "$q" train --help 2>&1 | grep -q "default: torch" || { echo "ok: no LibTorch in this build; the cross-engine resume is skipped"; exit 0; }
    # Across engines: 5 steps on one, then step 6 on the other from that checkpoint against step 6 on the first (no
    # augmentation: the comparison is of the weights and the optimizer state that crossed, not of augmentation kernels).
    for bits in 32; do
      rec=(--bits $bits --optimizer sgd --lr 0.01 --momentum 0.9 --wd 5e-4 --no-final-eval)
      for e in core torch; do
        o=torch; [ $e = torch ] && o=core
        "$q" train --engine $e "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/x$e$bits" --stop-after 5 >"$out" 2>"$err"
        cp -r "$tmp/x$e$bits" "$tmp/y$e$bits"
        "$q" train --engine $e "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/x$e$bits" --stop-after 1 --resume "$tmp/x$e$bits/last.safetensors" >"$out" 2>"$err"
        "$q" train --engine $o "${common[@]}" "${rec[@]}" --checkpoint-dir "$tmp/y$e$bits" --stop-after 1 --resume "$tmp/y$e$bits/last.safetensors" >"$out" 2>"$err"
        [ $? -eq 130 ] || { echo "FAIL: --engine $o --resume of a $e checkpoint"; cat "$err"; exit 1; }
        python3 - "$tmp/x$e$bits/last.safetensors" "$tmp/y$e$bits/last.safetensors" "$e -> $o, --bits $bits" $bits <<'PY' || exit 1
import json, struct, sys
def read(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); out = {}
    for k, v in h.items():
        if k == "__metadata__" or v["dtype"] != "F32": continue
        s, e = v["data_offsets"]; out[k] = struct.unpack("<%df" % ((e - s) // 4), b[8 + n + s:8 + n + e])
    return out, h["__metadata__"]
(a, ma), (b, mb) = read(sys.argv[1]), read(sys.argv[2])
assert ma["checkpoint_step"] == mb["checkpoint_step"] == "6", (ma["checkpoint_step"], mb["checkpoint_step"])
# max |a - b| / max |a| per tensor. The engines sum in different orders: float steps agree to float rounding
# (measured 1e-6 after 16 steps). W4A4: a value within that rounding of a code boundary takes the neighbouring
# code in one engine, and equal codes in a max-pool window send the gradient to different (equally valid) inputs
# (tests/unit/torch/test_core_grads.cpp); one step moves a weight by lr * grad, so its effect is that small.
tol = 1e-5 if sys.argv[4] == "32" else 1e-3
worst = max((max(abs(x - y) for x, y in zip(a[k], b[k])) / max(max(abs(x) for x in a[k]), 1e-12), k) for k in a)
assert worst[0] < tol, worst
print(f"ok: {sys.argv[3]}: step 6 after crossing = step 6 on the first engine within {worst[0]:.1e} (worst {worst[1]}; bound {tol:g})")
PY
      done
    done ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac

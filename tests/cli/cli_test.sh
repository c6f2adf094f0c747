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
    for sub in eval sweep info convert "data fetch" "data check"; do
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
print("ok: convert .pth -> safetensors keeps 20 tensors, I64 counters, metadata")
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
  *) echo "unknown case $case_name"; exit 2 ;;
esac

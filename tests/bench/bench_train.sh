#!/usr/bin/env bash
# bench_train.sh: CPU training throughput of `quantlab train` beside the notebook's PyTorch loop (Debian's
# python3-torch), same thread count, same run, interleaved ROUNDS times so that a busy machine hurts both alike.
# Usage: tests/bench/bench_train.sh [QUANTLAB_BINARY] [THREADS] [ROUNDS]
#   default binary build/dev/native/quantlab, threads = cores, 3 rounds. Medians are printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
Q="${1:-build/dev/native/quantlab}"
T="${2:-$(nproc)}"
ROUNDS="${3:-3}"
DATA="${QUANTLAB_DATA:-../shared/data/cifar-10-batches-bin}"
OUT="$(mktemp -d)"
for r in $(seq "$ROUNDS"); do
  /usr/bin/python3 tests/bench/train_bench.py --data "$DATA" --weights ../shared/seed/pretrain.pth --quantlab "$Q" \
    --threads "$T" --iters 40 --warmup 5 --quantlab-steps 45 --loops notebook,resident,quantlab --json "$OUT/r$r.json"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, glob, statistics, sys
runs = [json.load(open(f))["images_per_s"] for f in sorted(glob.glob(sys.argv[1] + "/r*.json"))]
med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
print("median images/s over %d rounds:" % len(runs), {k: round(v) for k, v in med.items()})
for k in med:
    if k != "quantlab":
        print("quantlab / %-10s %.2fx" % (k, med["quantlab"] / med[k]))
PY

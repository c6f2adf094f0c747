#!/usr/bin/env bash
# bench_train.sh: CPU training throughput of `quantlab train` (LibTorch engine and core's engine) beside the
# notebook's PyTorch loop (Debian's python3-torch), same thread count, same batch, interleaved ROUNDS times so
# that a busy machine hurts all alike. W4A4 (the notebook's), then float for the two quantlab engines.
# Usage: tests/bench/bench_train.sh [QUANTLAB_BINARY] [THREADS] [ROUNDS]
#   default binary build/dev/native/quantlab, threads = cores, 3 rounds. Medians are printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
Q="${1:-build/dev/native/quantlab}"
T="${2:-$(nproc)}"
ROUNDS="${3:-3}"
DATA="${QUANTLAB_DATA:-../shared/data/cifar-10-batches-bin}"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "bench_train.sh: the notebook's loop needs PyTorch for /usr/bin/python3 (Debian's python3-torch):" \
       "run scripts/setup.sh --bench" >&2
  exit 2
fi
OUT="$(mktemp -d)"
for r in $(seq "$ROUNDS"); do
  /usr/bin/python3 tests/bench/train_bench.py --data "$DATA" --weights ../shared/seed/pretrain.pth --quantlab "$Q" \
    --threads "$T" --iters 40 --warmup 5 --quantlab-steps 45 --loops notebook,resident,quantlab,quantlab-core \
    --json "$OUT/w4a4_r$r.json"
  /usr/bin/python3 tests/bench/train_bench.py --data "$DATA" --weights ../shared/seed/pretrain.pth --quantlab "$Q" \
    --threads "$T" --quantlab-steps 45 --quantlab-bits 32 --loops quantlab,quantlab-core --json "$OUT/float_r$r.json"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, glob, statistics, sys
for kind in ("w4a4", "float"):
    runs = [json.load(open(f))["images_per_s"] for f in sorted(glob.glob(sys.argv[1] + "/" + kind + "_r*.json"))]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("%s: median images/s over %d rounds:" % (kind, len(runs)), {k: round(v) for k, v in med.items()})
    for mine in ("quantlab", "quantlab-core"):
        for k in med:
            if k != mine and mine in med:
                ratios = sorted(r[mine] / r[k] for r in runs)
                print("  %s / %-10s %.2fx (median of the ratios; rounds %.2f-%.2fx)"
                      % (mine, k, statistics.median(ratios), ratios[0], ratios[-1]))
PY

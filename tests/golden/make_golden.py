#!/usr/bin/env python3
"""Compute PyTorch's reference ("golden") numbers for QuantLab's C++ core.

Regenerate (PyTorch 1.13 CPU, numpy; no torchvision needed; about 3 minutes on 2 idle cores):

    /usr/bin/python3 tests/golden/make_golden.py \
        --data /work/shared/data/cifar-10-batches-bin \
        --weights /work/shared/seed/pretrain.pth

(from the repository root; on CI the folders are ../shared/data/cifar-10-batches-bin and
../shared/seed/pretrain.pth). Add --sensitivity to also write sensitivity.json (about three times as long).
The float accuracy must print 67.17 % on the shared test set (the script exits 1 otherwise).
The outputs are written next to this script (or to --out DIR). The byte layouts are documented in
FORMATS below and in tests/golden/README.md; every binary file is raw little-endian with no header.

What is computed
----------------
* The class_03 notebook's Net (conv1 3->32 5x5, bn1, relu, maxpool2, conv2 32->64 5x5, bn2, relu, maxpool2,
  flatten, fc1 1600->120, relu, fc2 120->84, relu, fc3 84->10), weights from pretrain.pth, eval mode.
* Preprocessing exactly as torchvision's ToTensor + Normalize((0.5,)*3, (0.5,)*3):
  x = uint8 / 255 (float32), then x = (x - 0.5) / 0.5 (float32).
* The notebook's QuantizedNet: every conv/linear fake-quantizes its INPUT activation and its WEIGHT with
  the notebook's symmetric per-tensor quantizer (Z = 0, S = max(|max r|, |min r|) / (2^(b-1) - 1),
  round = ties-to-even, divide by S), scales computed per batch ("dynamic"); biases and BN stay float.
* Test accuracy over the 10,000 images of test_batch.bin, batch 128 in file order (79 batches, the last
  one 16 images), float and bits 16, 8, 6, 5, 4, 3, 2 (weights and activations the same bits).
* Logits of the first 64 test images (one batch of exactly 64), per-image predictions of all 10,000,
  quantizer reference values on the notebook's plot input (torch.manual_seed(100); randn(1000).sort()).
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMATS = """
All binary files: raw little-endian, no header, C order (row-major).
  logits_first64.bin     float32[5][64][10]: variants in order float, b8, b4, b3, b2 (see logits_first64.json);
                         logits of test images 0..63, quantized ones with dynamic scales over that 64-image batch.
  predictions_<v>.u8     uint8[10000]: argmax class (first index of the maximum, as torch.max) of test image i,
                         v in float, b16, b8, b6, b5, b4, b3, b2; batch 128 in file order, dynamic scales.
  margins_float.f32      float32[10000]: float-net logit gap top1 - top2 per test image (how fragile a
                         prediction is; a C++ float path may legitimately differ where it is ~1e-5).
  quantizer_input.f32    float32[1000]: torch.manual_seed(100); torch.randn(1000).sort()[0].
  quantizer_b<b>.f32     float32[1000]: quantize(input, b) for b in 2, 3, 4, 8 (scales in quantizer.json).
JSON files: accuracy.json, logits_first64.json, quantizer.json, debug.json (first-8 values of tensors),
and sensitivity.json (only with --sensitivity: predictions that change under another summation order).
Every float in JSON is the exact float32 value written as the shortest decimal that round-trips through a
double; scales additionally as "f32_hex" (the IEEE-754 bit pattern, e.g. "0x3c23d70a").
"""

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 3 * 32 * 32
N_TEST = 10000
ACC_BITS = [16, 8, 6, 5, 4, 3, 2]
LOGIT_BITS = [8, 4, 3, 2]
QUANTIZER_BITS = [2, 3, 4, 8]
BATCH = 128
N_FIRST = 64


# --------------------------------------------------------------------------------------------- quantizer
def quantize(r: torch.Tensor, b: int) -> torch.Tensor:
    """The notebook's quantizer (symmetric, Z = 0, per tensor), float32 throughout.

    qmax = 2^(b-1) - 1; S = max(|max r|, |min r|) / qmax; q = clamp(round(r / S), -qmax, qmax); r_hat = q * S.
    torch.round is ties-to-even. b = 1 (qmax = 0) and an all-zero tensor give zeros (one level).
    """
    qmax = 2 ** (b - 1) - 1
    if qmax == 0:
        return torch.zeros_like(r)
    S = torch.max(r.max().abs(), r.min().abs()) / qmax
    if S == 0:
        return torch.zeros_like(r)
    q = torch.clamp(torch.round(r / S), -qmax, qmax)
    return q * S


def scale_of(r: torch.Tensor, b: int) -> torch.Tensor:
    qmax = 2 ** (b - 1) - 1
    return torch.max(r.max().abs(), r.min().abs()) / qmax


# ------------------------------------------------------------------------------------------------ models
class Net(nn.Module):
    """The notebook's Net. With bits set, it is the notebook's QuantizedNet (dynamic per-batch scales)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 5)
        self.bn1 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, 5)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.bits = None   # None: float; int: fake-quant inputs and weights of every conv/linear
        self.trace = None  # dict: records per-layer scales when not None

    def _q(self, name, t, kind):
        if self.bits is None:
            return t
        if self.trace is not None:
            self.trace[f"{name}.{kind}_scale"] = scale_of(t, self.bits)
        return quantize(t, self.bits)

    def _conv(self, name, x):
        m = getattr(self, name)
        return F.conv2d(self._q(name, x, "input"), self._q(name, m.weight, "weight"), m.bias)

    def _linear(self, name, x):
        m = getattr(self, name)
        return F.linear(self._q(name, x, "input"), self._q(name, m.weight, "weight"), m.bias)

    def forward(self, x):
        c1 = self._conv("conv1", x)
        if self.trace is not None:
            self.trace["conv1_out"] = c1
        x = self.pool(F.relu(self.bn1(c1)))
        x = self.pool(F.relu(self.bn2(self._conv("conv2", x))))
        x = torch.flatten(x, 1)
        x = F.relu(self._linear("fc1", x))
        x = F.relu(self._linear("fc2", x))
        return self._linear("fc3", x)


# -------------------------------------------------------------------------------------------------- data
def read_cifar_bin(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % RECORD != 0:
        sys.exit(f"{path}: size {raw.size} is not a multiple of the CIFAR-10 record size {RECORD}")
    raw = raw.reshape(-1, RECORD)
    labels = raw[:, 0].astype(np.int64)
    images = raw[:, 1:].reshape(-1, 3, 32, 32)  # R plane, G plane, B plane, each row-major 32x32
    return labels, np.ascontiguousarray(images)


def preprocess(u8: np.ndarray) -> torch.Tensor:
    """torchvision ToTensor + Normalize(0.5, 0.5), same op order: div(255), then sub(0.5).div(0.5)."""
    x = torch.from_numpy(u8).float().div(255)
    x = (x - 0.5) / 0.5
    return x


# ----------------------------------------------------------------------------------------------- helpers
def f32(v) -> float:
    """Exact float32 value as a python float (repr round-trips)."""
    return float(np.float32(v))


def f32_hex(v) -> str:
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def f32_list(t) -> list:
    return [f32(v) for v in np.asarray(t, dtype=np.float32).ravel()]


def argmax_first(logits: torch.Tensor) -> torch.Tensor:
    _, pred = torch.max(logits, 1)
    return pred


def write_json(path, obj):
    """Indented JSON, but lists of plain numbers on one line (easier to read and diff)."""
    text = json.dumps(obj, indent=1)
    text = re.sub(r"\[\s*([-0-9.eE+,\s]*?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",") if x.strip()) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def write_bin(path, arr, dtype):
    a = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
    a.astype(a.dtype.newbyteorder("<"), copy=False).tofile(path)
    return os.path.getsize(path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_all(net, images, bits, batch):
    net.bits = bits
    outs = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            outs.append(net(preprocess(images[i:i + batch])))
    net.bits = None
    return torch.cat(outs)


# ------------------------------------------------------------------------- full-codes quantizer reference
FULL_BITS = [2, 3, 4, 8]
FULL_MULTIPLIERS = [1.0, 0.001, 0.37, 25.0]


def full_codes_inputs():
    """The full-codes golden inputs, float32[1000] each: the notebook's plot input times a few scales, and
    a tie-heavy tensor whose values sit at (k + 0.5) * S for the 8-bit full scale S = 1 / 127.5 (where
    multiplying by 1/S and dividing by S can round differently) plus uniform values in [-1, 1]."""
    torch.manual_seed(100)
    r = torch.randn(1000).sort()[0]
    inputs = [(f"randn x {m:g}", r * torch.tensor(m, dtype=torch.float32)) for m in FULL_MULTIPLIERS]
    s0 = torch.tensor(1.0, dtype=torch.float32) / torch.tensor(127.5, dtype=torch.float32)
    ties = (torch.arange(-128, 128, dtype=torch.float32) + 0.5) * s0
    torch.manual_seed(7)
    rest = torch.rand(1000 - 256 - 2) * 2 - 1
    inputs.append(("ties at (k + 0.5) / 127.5, +-1, uniform [-1, 1]", torch.cat([ties, torch.tensor([1.0, -1.0]), rest])))
    return inputs


def quantize_full(r: torch.Tensor, b: int) -> torch.Tensor:
    """PyTorch's symmetric per-tensor fake quantization with 2^b codes (MinMaxObserver's S, Z = 0)."""
    from torch.ao.quantization import MinMaxObserver
    qmin, qmax = -2 ** (b - 1), 2 ** (b - 1) - 1
    obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=qmin, quant_max=qmax)
    obs(r.detach())
    S, _ = obs.calculate_qparams()
    return torch.fake_quantize_per_tensor_affine(r, float(S), 0, qmin, qmax)


def full_codes_net_correct(net, images, labels, bits_list, n=1000):
    """Correct counts of the notebook's net with full codes on the first n test images (the bundled sample),
    batch 128 in file order, dynamic scales: `quantlab eval --codes full` on that sample must match."""
    global quantize
    notebook_quantize = quantize
    quantize = quantize_full
    try:
        return {str(b): int((argmax_first(run_all(net, images[:n], b, BATCH)) == labels[:n]).sum()) for b in bits_list}
    finally:
        quantize = notebook_quantize


def write_full_codes_goldens(out, net=None, images=None, labels=None):
    """PyTorch's own symmetric per-tensor quantization with 2^b codes, the notebook's printed formula
    S = (beta - alpha) / (2^b - 1), alpha = -beta = max|r|: torch.ao MinMaxObserver(qscheme=per_tensor_symmetric,
    quant_min=-2^(b-1), quant_max=2^(b-1)-1) picks S (Z = 0) and torch.quantize_per_tensor codes r (r * (1/S),
    ties to even); qint8 clamps to [-128, 127] only, so the codes are clamped to [quant_min, quant_max] as
    torch.fake_quantize_per_tensor_affine (FakeQuantize, QAT) does; asserted equal to that below."""
    from torch.ao.quantization import MinMaxObserver
    inputs = full_codes_inputs()
    written = {}
    written["quantizer_full_input.f32"] = write_bin(out("quantizer_full_input.f32"),
                                                    np.stack([x.numpy() for _, x in inputs]), np.float32)
    codes_all, deq_all, cases = [], [], []
    for i, (name, x) in enumerate(inputs):
        for b in FULL_BITS:
            qmin, qmax = -2 ** (b - 1), 2 ** (b - 1) - 1
            obs = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=qmin, quant_max=qmax)
            obs(x)
            S, Z = obs.calculate_qparams()
            assert int(Z) == 0
            q = torch.quantize_per_tensor(x, float(S), 0, torch.qint8)
            codes = q.int_repr().to(torch.int32).clamp(qmin, qmax)
            deq = codes.to(torch.float32) * S
            fq = torch.fake_quantize_per_tensor_affine(x, float(S), 0, qmin, qmax)
            assert torch.equal(fq, deq), f"fake_quantize_per_tensor_affine differs from quantize_per_tensor ({name}, b={b})"
            unclamped = int((q.int_repr().to(torch.int32) != codes).sum())
            cases.append({"input": i, "bits": b, "qmin": qmin, "qmax": qmax, "scale": f32(S), "scale_f32_hex": f32_hex(S),
                          "codes_clamped_from_int8": unclamped,
                          "codes_used": int(torch.unique(codes).numel())})
            print(f"full codes {name}, b={b}: S={float(S):.9g} ({f32_hex(S)}), codes used {cases[-1]['codes_used']}, "
                  f"{unclamped} clamped")
            codes_all.append(codes.to(torch.int8).numpy())
            deq_all.append(deq.numpy())
    written["quantizer_full_codes.i8"] = write_bin(out("quantizer_full_codes.i8"), np.stack(codes_all), np.int8)
    written["quantizer_full_dequant.f32"] = write_bin(out("quantizer_full_dequant.f32"), np.stack(deq_all), np.float32)
    net_correct = None
    if net is not None:
        net_correct = full_codes_net_correct(net, images, labels, [8, 4, 3, 2])
        print(f"full codes, the net on the first 1000 test images: correct {net_correct}")
    write_json(out("quantizer_full.json"), {
        "description": "symmetric per-tensor quantization with 2^b codes [-2^(b-1), 2^(b-1)-1] (QuantLab's codes=full): "
                       "torch.ao.quantization.MinMaxObserver(dtype=qint8, qscheme=per_tensor_symmetric, quant_min, quant_max) "
                       "scale (max(max|r| / ((qmax - qmin) / 2), FLT_EPSILON)), torch.quantize_per_tensor codes clamped to "
                       "[qmin, qmax], dequantized = code * S",
        "torch_version": torch.__version__,
        "n": 1000,
        "inputs": [name for name, _ in inputs],
        "files": {"input": "quantizer_full_input.f32 float32[inputs][1000]",
                  "codes": "quantizer_full_codes.i8 int8[cases][1000]",
                  "dequant": "quantizer_full_dequant.f32 float32[cases][1000]"},
        "cases": cases,
        "net_first1000_correct": net_correct,
        "net_note": "the notebook's net (pretrain.pth) with every conv/linear input and weight fake-quantized with "
                    "full codes, the first 1000 test images (the bundled sample), batch 128, dynamic scales; "
                    "null when written without --data and --weights"})
    written["quantizer_full.json"] = os.path.getsize(out("quantizer_full.json"))
    return written


# -------------------------------------------------------------------------------------------------- main
def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="folder with test_batch.bin (CIFAR-10 binary version)")
    ap.add_argument("--weights", help="the notebook's pretrain.pth")
    ap.add_argument("--full-codes-only", action="store_true",
                    help="write only the full-codes goldens (quantizer_full*); with --data and --weights also the "
                         "net's full-codes correct counts on the first 1000 test images")
    ap.add_argument("--out", default=here, help="output folder (default: next to this script)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sensitivity", action="store_true",
                    help="also count predictions that change without oneDNN / in float64 (slow; writes "
                         "sensitivity.json)")
    args = ap.parse_args()
    if not args.full_codes_only and (not args.data or not args.weights):
        ap.error("--data and --weights are required (except with --full-codes-only)")

    torch.set_num_threads(args.threads)
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    out = lambda name: os.path.join(args.out, name)  # noqa: E731
    written = {}
    if args.full_codes_only:
        net = labels = images = None
        if args.data and args.weights:
            labels_np, images = read_cifar_bin(os.path.join(args.data, "test_batch.bin"))
            labels = torch.from_numpy(labels_np)
            net = Net()
            net.load_state_dict(torch.load(args.weights, map_location="cpu"))
            net.eval()
        for name, size in write_full_codes_goldens(out, net, images, labels).items():
            print(f"  {name}: {size} bytes")
        return

    test_path = os.path.join(args.data, "test_batch.bin")
    labels_np, images = read_cifar_bin(test_path)
    if images.shape[0] != N_TEST:
        sys.exit(f"{test_path}: expected {N_TEST} records, found {images.shape[0]}")
    labels = torch.from_numpy(labels_np)

    net = Net()
    state = torch.load(args.weights, map_location="cpu")
    net.load_state_dict(state)
    net.eval()

    provenance = {
        "generator": "tests/golden/make_golden.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "weights_file": os.path.basename(args.weights),
        "weights_sha256": sha256(args.weights),
        "test_batch_sha256": sha256(test_path),
        "preprocess": "x = uint8/255 (float32); x = (x - 0.5)/0.5  (ToTensor + Normalize(0.5, 0.5))",
        "quantizer": "symmetric per-tensor, Z=0, S=max(|max r|,|min r|)/(2^(b-1)-1), q=clamp(round_half_even(r/S),-qmax,qmax), r_hat=q*S; inputs and weights of conv1, conv2, fc1, fc2, fc3; bias and BN float; dynamic (per-batch) activation scales",
        "argmax": "first index of the maximum (torch.max(logits, 1))",
    }

    # ------------------------------------------------------------------------ accuracy, batch 128
    variants = [("float", None)] + [(f"b{b}", b) for b in ACC_BITS]
    acc = {}
    preds_all = {}
    logits_all = {}
    for name, bits in variants:
        logits = run_all(net, images, bits, BATCH)
        pred = argmax_first(logits)
        correct = pred == labels
        per_class = [int(correct[labels == c].sum()) for c in range(10)]
        acc[name] = {
            "bits": bits if bits is not None else 32,
            "correct": int(correct.sum()),
            "total": N_TEST,
            "percent": round(100.0 * int(correct.sum()) / N_TEST, 2),
            "per_class_correct": per_class,
            "argmax_exact_ties": int((torch.topk(logits, 2, dim=1).values.diff(dim=1) == 0).sum()),
        }
        print(f"  {name:>5}: {int(correct.sum())} correct ({time.time() - t0:.0f} s)", flush=True)
        preds_all[name] = pred.numpy().astype(np.uint8)
        logits_all[name] = logits
        fn = f"predictions_{name}.u8"
        written[fn] = write_bin(out(fn), preds_all[name], np.uint8)

    top2 = torch.topk(logits_all["float"], 2, dim=1).values
    margins = (top2[:, 0] - top2[:, 1]).numpy().astype(np.float32)
    written["margins_float.f32"] = write_bin(out("margins_float.f32"), margins, np.float32)

    # Optional (--sensitivity, slow): how many predictions change under other rounding of every sum:
    # (1) the same float32 nets with oneDNN (mkldnn) convolutions switched off (another accumulation order),
    # (2) everything in float64, quantizer included. A C++ implementation whose sums run in another order
    # can differ from the reference on about this many images. Written to sensitivity.json.
    sensitivity = None
    if args.sensitivity:
        sensitivity = {}
        net64 = Net()
        net64.load_state_dict(state)
        net64.eval()
        net64.double()
        with torch.no_grad():
            for name, bits in variants:
                with torch.backends.mkldnn.flags(enabled=False):
                    p_nomkl = argmax_first(run_all(net, images, bits, BATCH)).numpy().astype(np.uint8)
                net64.bits = bits
                outs = []
                for i in range(0, N_TEST, BATCH):
                    outs.append(net64(preprocess(images[i:i + BATCH]).double()))
                p64 = argmax_first(torch.cat(outs)).numpy().astype(np.uint8)
                print(f"  {name:>5} without mkldnn and in float64 ({time.time() - t0:.0f} s)", flush=True)
                sensitivity[name] = {}
                for key, p in [("float32_without_mkldnn", p_nomkl), ("float64", p64)]:
                    diff = np.nonzero(p != preds_all[name])[0]
                    sensitivity[name][key] = {"predictions_differing": int(diff.size),
                                              "first_indices": [int(i) for i in diff[:10]]}
        write_json(out("sensitivity.json"), {
            "description": "predictions (batch 128, all 10000 test images) that differ from the reference "
                           "files when the sums are rounded differently: float32 with oneDNN convolutions "
                           "off, and float64 throughout (quantizer included). Shows how fragile each variant "
                           "is to accumulation order; not a tolerance the C++ side must meet.",
            "variants": sensitivity,
            "provenance": provenance,
        })
        written["sensitivity.json"] = os.path.getsize(out("sensitivity.json"))

    acc_json = {
        "description": "CIFAR-10 test_batch.bin, all 10000 images, batch 128 in file order, eval mode; "
                       "quantized = notebook QuantizedNet, weights and activations at the same bits, "
                       "dynamic (per-batch) activation scales",
        "batch_size": BATCH,
        "class_names": NAMES,
        "labels_per_class": [int((labels == c).sum()) for c in range(10)],
        "variants": acc,
        "provenance": provenance,
    }
    write_json(out("accuracy.json"), acc_json)

    # ------------------------------------------------------------------------ first 64 images, one batch
    x64 = preprocess(images[:N_FIRST])
    first = {}
    blocks = []
    debug_scales = {}
    with torch.no_grad():
        for name, bits in [("float", None)] + [(f"b{b}", b) for b in LOGIT_BITS]:
            net.bits = bits
            net.trace = {}
            lg = net(x64)
            tr = net.trace
            net.trace = None
            net.bits = None
            blocks.append(lg.numpy().astype(np.float32))
            first[name] = {"bits": bits if bits is not None else 32,
                           "predictions": [int(v) for v in argmax_first(lg)],
                           "correct": int((argmax_first(lg) == labels[:N_FIRST]).sum())}
            if bits is not None:
                debug_scales[name] = {k: {"value": f32(v), "f32_hex": f32_hex(v)}
                                      for k, v in tr.items() if k.endswith("_scale")}
            else:
                conv1_float = tr["conv1_out"]
    logits64 = np.stack(blocks)  # (5, 64, 10)
    written["logits_first64.bin"] = write_bin(out("logits_first64.bin"), logits64, np.float32)
    write_json(out("logits_first64.json"), {
        "file": "logits_first64.bin",
        "dtype": "float32", "byte_order": "little", "order": "C",
        "shape": list(logits64.shape),
        "variants": [n for n in first],
        "layout": "variant-major: offset(v, i, k) = ((v * 64 + i) * 10 + k) * 4 bytes",
        "batch": "test images 0..63 as ONE batch of 64; quantized variants use dynamic scales over it",
        "labels": [int(v) for v in labels[:N_FIRST]],
        "per_variant": first,
        "layer_scales": {
            "description": "per-layer quantizer scales S for this 64-image batch (inputs: over the batch; "
                           "weights: over the whole weight tensor)",
            "variants": debug_scales,
        },
    })

    # ------------------------------------------------------------------------ debug tensors
    x0 = preprocess(images[:1])
    with torch.no_grad():
        c1 = F.conv2d(x0, net.conv1.weight, net.conv1.bias)
    assert torch.equal(c1[0], conv1_float[0]) or torch.allclose(c1[0], conv1_float[0], atol=1e-5)
    debug = {
        "description": "first 8 values (C order) of intermediate tensors of test image 0, float net",
        "image0_label": int(labels[0]),
        "image0_u8_first8": [int(v) for v in images[0].ravel()[:8]],
        "image0_input_first8": f32_list(x0[0].ravel()[:8]),
        "conv1_out_pre_bn_image0_first8": f32_list(c1[0].ravel()[:8]),
        "conv1_out_pre_bn_image0_shape": list(c1[0].shape),
        "conv1_out_pre_bn_image0_sum": float(c1[0].double().sum()),
        "logits_float_image0": f32_list(logits_all["float"][0]),
    }
    write_json(out("debug.json"), debug)

    # ------------------------------------------------------------------------ quantizer reference
    torch.manual_seed(100)
    r = torch.randn(1000).sort()[0]
    written["quantizer_input.f32"] = write_bin(out("quantizer_input.f32"), r.numpy(), np.float32)
    qjson = {"input": "quantizer_input.f32 (float32[1000], torch.manual_seed(100); torch.randn(1000).sort()[0])",
             "input_min": f32(r.min()), "input_max": f32(r.max()), "bits": {}}
    for b in QUANTIZER_BITS:
        qmax = 2 ** (b - 1) - 1
        S = scale_of(r, b)
        rh = quantize(r, b)
        pt = torch.fake_quantize_per_tensor_affine(r, float(S), 0, -qmax, qmax)
        n_diff = int((pt != rh).sum())
        print(f"quantizer b={b}: S={float(S):.9g} ({f32_hex(S)}), levels used={int(torch.unique(rh).numel())}, "
              f"torch.fake_quantize_per_tensor_affine differs at {n_diff} of 1000")
        assert n_diff == 0, f"fake_quantize_per_tensor_affine differs from the notebook quantizer at b={b}"
        fn = f"quantizer_b{b}.f32"
        written[fn] = write_bin(out(fn), rh.numpy(), np.float32)
        codes = torch.round(r / S)
        qjson["bits"][str(b)] = {
            "file": fn, "qmax": qmax, "scale": f32(S), "scale_f32_hex": f32_hex(S),
            "levels_used": int(torch.unique(rh).numel()),
            "codes_histogram": {str(int(c)): int((torch.clamp(codes, -qmax, qmax) == c).sum())
                                for c in range(-qmax, qmax + 1)},
            "equals_torch_fake_quantize_per_tensor_affine": n_diff == 0,
        }
    # edge cases the contract fixes
    z = torch.zeros(5)
    assert torch.equal(quantize(z, 8), z)
    assert torch.equal(quantize(torch.tensor([0.3, -1.0]), 1), torch.zeros(2))
    # ties: r/S exactly k + 0.5 goes to the even code
    ties_b = 3  # qmax = 3; max |r| = 3, so S = 1 exactly and r / S are exact halves
    ties_in = torch.tensor([3.0, -3.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5])
    ties_out = quantize(ties_in, ties_b)
    assert ties_out.tolist() == [3.0, -3.0, 0.0, 2.0, 2.0, -0.0, -2.0, -2.0], ties_out.tolist()
    qjson["ties_example"] = {"bits": ties_b, "input": ties_in.tolist(), "output": [v + 0.0 for v in ties_out.tolist()],
                             "note": "S = 1 exactly; halves round to even (torch.round / std::nearbyint)"}
    qjson["edge_cases"] = {"all_zero_input": "zeros", "bits_1": "zeros (qmax = 0, one level)"}
    write_json(out("quantizer.json"), qjson)
    written.update(write_full_codes_goldens(out, net, images, labels))

    for fn in ["accuracy.json", "logits_first64.json", "debug.json", "quantizer.json"]:
        written[fn] = os.path.getsize(out(fn))

    # ------------------------------------------------------------------------ report
    print()
    print(f"test set: {test_path} (sha256 {provenance['test_batch_sha256'][:16]}...)")
    print(f"weights:  {args.weights} (sha256 {provenance['weights_sha256'][:16]}...)")
    print(f"{'variant':>8} {'correct':>8} {'percent':>8}  {'first64':>7}"
          + ("  diffs: no-mkldnn  float64" if sensitivity else ""))
    for name, _ in variants:
        a = acc[name]
        f64 = first[name]["correct"] if name in first else ""
        line = f"{name:>8} {a['correct']:>8} {a['percent']:>7.2f}%  {str(f64):>7}"
        if sensitivity:
            line += (f"  {sensitivity[name]['float32_without_mkldnn']['predictions_differing']:>17}"
                     f"  {sensitivity[name]['float64']['predictions_differing']:>7}")
        print(line)
    print("per-class correct, float:", acc["float"]["per_class_correct"])
    print("per-class correct, b8:   ", acc["b8"]["per_class_correct"])
    print("conv1 pre-BN image 0 first 8:", debug["conv1_out_pre_bn_image0_first8"])
    total = 0
    print("\nfiles:")
    for fn in sorted(written):
        total += written[fn]
        print(f"  {fn:28s} {written[fn]:>8} bytes")
    print(f"  {'total':28s} {total:>8} bytes")
    print(f"done in {time.time() - t0:.1f} s")
    if acc["float"]["percent"] != 67.17:
        print(f"WARNING: float accuracy {acc['float']['percent']} % differs from the documented 67.17 %")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

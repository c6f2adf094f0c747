#!/usr/bin/env python3
"""Make the embedded default of QuantLab: assets/cifar10_test_1000.bin, assets/cifar10_train_2000.bin and assets/notebook_pretrain.safetensors.

Rerun (PyTorch 1.13 CPU + numpy, e.g. Debian's python3-torch; no torchvision, no safetensors package):

    /usr/bin/python3 scripts/make_assets.py \
        --data /work/shared/data/cifar-10-batches-bin \
        --weights /work/shared/seed/pretrain.pth

(from the repository root; on CI the shared folder is ../shared). Writes into assets/ (or --out DIR),
each file through a temporary file and a rename, and reads every file back to check it.

* assets/cifar10_test_1000.bin: the first 1,000 records of test_batch.bin, byte for byte
  (CIFAR-10 binary layout: per record 1 label byte + 1024 R + 1024 G + 1024 B bytes, each plane row-major
  32x32; 3,073 bytes a record, 3,073,000 bytes in all). Its sha256 is printed and checked against the
  first 3,073,000 bytes of the source.
* assets/cifar10_train_2000.bin: the first 2,000 records of data_batch_1.bin, byte for byte (6,146,000 bytes):
  the page's training images (not preloaded: glue.js fetches it when the first training run starts). They are
  the first 2,000 images `quantlab train --data DIR --limit-train 2000` uses, so the page and the command line
  train on the same images. `--train-sample-only` writes just this file.
* assets/notebook_pretrain.safetensors: the class_03 notebook's pretrained weights (pretrain.pth,
  ArtIC-TITECH/b3-proj-2023 resources/class_03/pretrain.pth, Apache-2.0) as safetensors, written by hand
  (no safetensors package needed): 8-byte little-endian header length N, N bytes of JSON header (keys
  sorted, compact, padded with spaces so N is a multiple of 8), then the raw little-endian tensor data.
  Tensor names are exactly the PyTorch state_dict names; dtypes F32, and I64 for bn*.num_batches_tracked
  (shape [], 8 bytes). The data of the I64 tensors comes first, then the F32 tensors in name order (the
  order the safetensors library itself writes: larger dtypes first, then by name), so every tensor is
  aligned to its element size. `__metadata__` (all values strings) records the QuantLab format version,
  the source and licence of the weights, and the float test accuracy measured here on the full test set.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD = 3073
N_SAMPLE = 1000
SOURCE = "ArtIC-TITECH/b3-proj-2023 resources/class_03/pretrain.pth (Apache-2.0)"

DTYPES = {torch.float32: ("F32", np.float32), torch.int64: ("I64", np.int64)}
NP_OF = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8")}


def load_golden_module():
    """The Net, preprocessing and quantizer live in tests/golden/make_golden.py (one definition)."""
    sys.dont_write_bytecode = True  # no __pycache__ in tests/golden
    path = os.path.join(ROOT, "tests", "golden", "make_golden.py")
    spec = importlib.util.spec_from_file_location("make_golden", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sha256_bytes(b):
    return hashlib.sha256(b).hexdigest()


def atomic_write(path, data: bytes):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------ safetensors
def safetensors_bytes(state: dict, metadata: dict) -> bytes:
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ValueError(f"__metadata__ must map strings to strings: {k!r}: {v!r}")
    items = []
    for name, t in state.items():
        if t.dtype not in DTYPES:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        code, npdt = DTYPES[t.dtype]
        arr = t.detach().cpu().contiguous().numpy().astype(np.dtype(npdt).newbyteorder("<"), copy=False)
        items.append((name, code, list(t.shape), arr.tobytes(order="C"), arr.itemsize))
    # data order: larger element size first, then name (as the safetensors library does)
    items.sort(key=lambda it: (-it[4], it[0]))
    header = {"__metadata__": metadata}
    offset = 0
    chunks = []
    for name, code, shape, data, _ in items:
        header[name] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    hj = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    return struct.pack("<Q", len(hj)) + hj + b"".join(chunks)


def read_safetensors(path):
    """A strict reader: checks sizes, dtypes, shapes and that the offsets tile the data exactly."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, expected at least 8")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds file size {len(blob)}")
    if n % 8 != 0:
        raise ValueError(f"{path}: header length {n} is not a multiple of 8")
    raw = blob[8:8 + n]
    if not raw.startswith(b"{"):
        raise ValueError(f"{path}: header does not start with '{{'")
    header = json.loads(raw.decode("utf-8"))
    data = blob[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    spans = []
    for name, info in header.items():
        dt = NP_OF.get(info["dtype"])
        if dt is None:
            raise ValueError(f"{path}: {name}: unexpected dtype {info['dtype']}")
        shape = info["shape"]
        b, e = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= b <= e <= len(data)) or e - b != count * dt.itemsize:
            raise ValueError(f"{path}: {name}: offsets {b}..{e} do not fit shape {shape} {info['dtype']} "
                             f"in {len(data)} data bytes")
        spans.append((b, e))
        tensors[name] = np.frombuffer(data, dtype=dt, count=count, offset=b).reshape(shape)
    pos = 0
    for b, e in sorted(spans):
        if b != pos:
            raise ValueError(f"{path}: data has a hole or overlap at byte {pos}")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing data bytes not covered by any tensor")
    return tensors, meta


# ----------------------------------------------------------------------------------------------- main
N_TRAIN_SAMPLE = 2000


def write_train_sample(data_dir, out_dir):
    src = os.path.join(data_dir, "data_batch_1.bin")
    size = os.path.getsize(src)
    if size != 10000 * RECORD:
        sys.exit(f"{src}: {size} bytes, expected {10000 * RECORD} (10,000 CIFAR-10 records)")
    with open(src, "rb") as f:
        head = f.read(N_TRAIN_SAMPLE * RECORD)
    path = os.path.join(out_dir, f"cifar10_train_{N_TRAIN_SAMPLE}.bin")
    atomic_write(path, head)
    with open(path, "rb") as f:
        back = f.read()
    assert back == head and len(back) == N_TRAIN_SAMPLE * RECORD, "training sample does not read back identically"
    print(f"{path}: {len(back)} bytes, sha256 {sha256_bytes(back)} (the first {N_TRAIN_SAMPLE} records of data_batch_1.bin)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder with test_batch.bin (CIFAR-10 binary version)")
    ap.add_argument("--weights", required=True, help="the notebook's pretrain.pth")
    ap.add_argument("--out", default=os.path.join(ROOT, "assets"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-sample-only", action="store_true", help="write only assets/cifar10_train_2000.bin")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    write_train_sample(args.data, args.out)
    if args.train_sample_only:
        return
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    g = load_golden_module()

    # ---------------------------------------------------------------- CIFAR-10 sample
    test_path = os.path.join(args.data, "test_batch.bin")
    size = os.path.getsize(test_path)
    if size != 10000 * RECORD:
        sys.exit(f"{test_path}: {size} bytes, expected {10000 * RECORD} (10,000 CIFAR-10 records)")
    with open(test_path, "rb") as f:
        head = f.read(N_SAMPLE * RECORD)
    sample_path = os.path.join(args.out, "cifar10_test_1000.bin")
    atomic_write(sample_path, head)
    with open(sample_path, "rb") as f:
        back = f.read()
    assert back == head and len(back) == 3_073_000, "sample file does not read back identically"
    sample_sha = sha256_bytes(back)
    print(f"{sample_path}: {len(back)} bytes, sha256 {sample_sha} "
          f"(== sha256 of the first {N_SAMPLE * RECORD} bytes of test_batch.bin: {sha256_bytes(head) == sample_sha})")

    # ---------------------------------------------------------------- weights and accuracy
    state = torch.load(args.weights, map_location="cpu")
    net = g.Net()
    net.load_state_dict(state)
    net.eval()
    labels, images = g.read_cifar_bin(test_path)
    logits = g.run_all(net, images, None, 128)
    correct = int((g.argmax_first(logits).numpy() == labels).sum())
    acc = f"{100.0 * correct / len(labels):.2f}"
    print(f"float test accuracy on {test_path}: {correct}/{len(labels)} = {acc} %")

    metadata = {
        "format": "quantlab",
        "quantlab_format_version": "1",
        "source": SOURCE,
        "model": "notebook_net",
        "trained_by": "notebook (pretrained)",
        "test_accuracy_float": acc,
    }
    st_path = os.path.join(args.out, "notebook_pretrain.safetensors")
    atomic_write(st_path, safetensors_bytes(state, metadata))

    # ---------------------------------------------------------------- read back and check
    tensors, meta = read_safetensors(st_path)
    assert meta == metadata, (meta, metadata)
    assert list(tensors) and set(tensors) == set(state), (sorted(tensors), sorted(state))
    for name, t in state.items():
        a = tensors[name]
        assert a.dtype == DTYPES[t.dtype][1] and list(a.shape) == list(t.shape), name
        assert np.array_equal(a, t.numpy()), name
    net2 = g.Net()
    net2.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    net2.eval()
    logits2 = g.run_all(net2, images, None, 128)
    assert torch.equal(logits, logits2), "weights read back from safetensors give different logits"
    with open(st_path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
    print(f"{st_path}: {os.path.getsize(st_path)} bytes, header {n} bytes, {len(tensors)} tensors, "
          f"sha256 {sha256_bytes(open(st_path, 'rb').read())}; read back: identical tensors and logits")

    # ---------------------------------------------------------------- accuracy on the embedded sample
    sl = labels[:N_SAMPLE]
    si = images[:N_SAMPLE]
    print(f"on the embedded {N_SAMPLE}-image sample (batch 128 in file order, dynamic scales):")
    for bits in [None, 8, 4, 3, 2]:
        c = int((g.argmax_first(g.run_all(net, si, bits, 128)).numpy() == sl).sum())
        print(f"  {'float' if bits is None else f'{bits}-bit':>6}: {c}/{N_SAMPLE} = {100.0 * c / N_SAMPLE:.1f} %")
    print("per-class counts in the sample:", np.bincount(sl, minlength=10).tolist())
    return 0


if __name__ == "__main__":
    sys.exit(main())

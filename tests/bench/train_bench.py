#!/usr/bin/env python3
"""train_bench.py: QAT training throughput of the notebook's PyTorch loop beside `quantlab train`, in one run.

Loops (images/s of training steps at batch 128, W4A4 max-abs fake-quant with the identity STE):
  notebook       the class_03 notebook as written: QuantizedNet whose QuantConv2d/QuantLinear call a
                 torch.autograd.Function around quantization(r, b=4), a Dataset that converts one image at a
                 time (ToTensor + Normalize), DataLoader(batch 128, shuffle, num_workers=2), SGD.
  resident       the data set resident on the device as uint8, batches gathered and normalised there,
                 torch's fused fake_quantize_per_tensor_affine with tensor scales (no host syncs).
  resident-graph (CUDA only) the resident loop captured once as a CUDA graph (forward, backward, SGD step)
                 and replayed.
  quantlab       `quantlab train` (LibTorch, C++) with the same recipe and thread count, run as a subprocess; on
                 CUDA its step is one CUDA graph (--cuda-graph auto).
  quantlab-eager the same with --cuda-graph off (one kernel launch at a time from the CPU).
  quantlab-nchw  the same with --channels-last off (on CUDA, auto means NHWC for a graph step).
  quantlab-core  `quantlab train --engine core`: core's own training engine (no LibTorch; CPU, its fast kernels).
The quantlab loops train at --quantlab-bits (default 4, as the notebook; 32: float).

No torchvision needed: CIFAR-10 is read from the binary batches with numpy. Debian's python3-torch works on
CPU (/usr/bin/python3); on a GPU machine use the pip torch the binary was built against.

  /usr/bin/python3 tests/bench/train_bench.py --data ../shared/data/cifar-10-batches-bin \\
      --quantlab build/dev/native/quantlab --threads 2 --loops notebook,quantlab
Prints one line per loop and the ratios; --json FILE also writes them.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_cifar_train(data_dir, limit=None):
    xs, ys = [], []
    for i in range(1, 6):
        raw = np.fromfile(os.path.join(data_dir, f"data_batch_{i}.bin"), dtype=np.uint8).reshape(-1, 3073)
        ys.append(raw[:, 0].astype(np.int64))
        xs.append(raw[:, 1:].reshape(-1, 3, 32, 32))
    x, y = np.concatenate(xs), np.concatenate(ys)
    if limit:
        x, y = x[:limit], y[:limit]
    return x, y


# ---- the notebook's quantizer, QuantConv2d / QuantLinear and QuantizedNet ------------------------------

def quantization(r: torch.Tensor, b=4):
    # S = max(|max r|, |min r|) / (2^(b-1) - 1), Z = 0, codes clamped to +-(2^(b-1) - 1)
    qmax = 2 ** (b - 1) - 1
    s = torch.max(r.max().abs(), r.min().abs()) / qmax
    return s * torch.clamp(torch.round(r / s), -qmax, qmax)


class Quantization(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return quantization(x)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the identity STE


class QuantConv2d(nn.Conv2d):
    def forward(self, x):
        return self._conv_forward(Quantization.apply(x), Quantization.apply(self.weight), self.bias)


class QuantLinear(nn.Linear):
    def forward(self, x):
        return F.linear(Quantization.apply(x), Quantization.apply(self.weight), self.bias)


class QuantizedNet(nn.Module):
    def __init__(self, conv=QuantConv2d, linear=QuantLinear):
        super().__init__()
        self.conv1 = conv(3, 32, 5)
        self.bn1 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = conv(32, 64, 5)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = linear(64 * 5 * 5, 120)
        self.fc2 = linear(120, 84)
        self.fc3 = linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


# ---- the resident loop's quantizer: torch's fused kernel with tensor scales ----------------------------

def fused_fq(x, b=4):
    qmax = 2 ** (b - 1) - 1
    with torch.no_grad():
        s = (x.detach().abs().amax() / qmax).reshape(1)
        s = torch.where(s == 0, torch.ones_like(s), s)
        z = torch.zeros(1, dtype=torch.int32, device=x.device)
        q = torch.fake_quantize_per_tensor_affine(x.detach(), s, z, -qmax, qmax)
    return x + (q - x).detach()  # identity STE without a Python autograd.Function


class FusedConv2d(nn.Conv2d):
    def forward(self, x):
        return self._conv_forward(fused_fq(x), fused_fq(self.weight), self.bias)


class FusedLinear(nn.Linear):
    def forward(self, x):
        return F.linear(fused_fq(x), fused_fq(self.weight), self.bias)


class NotebookDataset(torch.utils.data.Dataset):
    """One image at a time, as torchvision's CIFAR10 + ToTensor + Normalize((0.5,)*3, (0.5,)*3)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        t = torch.from_numpy(self.x[i].astype(np.float32)).div_(255.0)
        return t.sub_(0.5).div_(0.5), int(self.y[i])


def load_init(model, weights):
    if weights:
        model.load_state_dict(torch.load(weights, map_location="cpu"))


def bench_notebook(args, x, y, device):
    model = QuantizedNet().to(device)
    load_init(model, args.weights)
    g = torch.Generator().manual_seed(0)
    n = len(y)
    train, _ = torch.utils.data.random_split(NotebookDataset(x, y), [int(n * 0.8), n - int(n * 0.8)], generator=g)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True, num_workers=args.workers)
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-5)
    model.train()
    done, t0, images = 0, None, 0
    while done < args.iters + args.warmup:
        for xb, yb in loader:
            if done == args.warmup:
                sync(device)
                t0, images = time.perf_counter(), 0
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            loss = crit(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()  # the notebook's running_loss += loss.item()
            done += 1
            images += xb.shape[0]
            if done >= args.iters + args.warmup:
                break
    sync(device)
    return images / (time.perf_counter() - t0)


def resident_step_fn(model, opt, crit):
    def step(xb, yb):
        out = model(xb)
        loss = crit(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss
    return step


def bench_resident(args, x, y, device, graph=False):
    model = QuantizedNet(FusedConv2d, FusedLinear).to(device)
    load_init(model, args.weights)
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-5)
    xd = torch.from_numpy(x).to(device)
    yd = torch.from_numpy(y).to(device)
    n = int(len(y) * 0.8)
    b = args.batch
    steps = n // b
    step = resident_step_fn(model, opt, crit)
    model.train()

    def batch(i, perm):
        idx = perm[(i % steps) * b:(i % steps + 1) * b]
        return xd.index_select(0, idx).float().div_(255).sub_(0.5).div_(0.5), yd.index_select(0, idx)

    perm = torch.randperm(n, device=device)
    if not graph:
        for i in range(args.warmup):
            step(*batch(i, perm))
        sync(device)
        t0 = time.perf_counter()
        for i in range(args.iters):
            loss = step(*batch(i, perm))
        loss.item()
        sync(device)
        return args.iters * b / (time.perf_counter() - t0)

    static_x, static_y = batch(0, perm)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step(static_x, static_y)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        static_loss = step(static_x, static_y)
    for i in range(args.warmup):
        xb, yb = batch(i, perm)
        static_x.copy_(xb)
        static_y.copy_(yb)
        g.replay()
    sync(device)
    t0 = time.perf_counter()
    for i in range(args.iters):
        xb, yb = batch(i, perm)
        static_x.copy_(xb)
        static_y.copy_(yb)
        g.replay()
    static_loss.item()
    sync(device)
    return args.iters * b / (time.perf_counter() - t0)


def bench_quantlab(args, device, n_images, graph="auto", extra=()):
    steps = args.quantlab_steps or (args.iters + args.warmup)
    per_epoch = -(-int(n_images * 0.8) // args.batch)
    epochs = -(-steps // per_epoch)  # enough epochs for --max-steps (each epoch's validation is not counted)
    cmd = [args.quantlab, "train", "--data", args.data, "--bits", str(args.quantlab_bits), "--epochs", str(epochs), "--max-steps", str(steps), "--val-every", "0",
           "--checkpoint-dir", "", "--no-final-eval", "--quiet", "--threads", str(args.threads), "--device", device.type,
           "--batch", str(args.batch), "--cuda-graph", graph, *extra]
    if args.weights:
        cmd += ["--init", args.weights]
    if args.limit:
        cmd += ["--limit-train", str(args.limit)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("quantlab train failed: " + r.stderr + r.stdout)
    m = re.search(r"([0-9.]+) images/s", r.stdout)
    return float(m.group(1))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default="", help="initial weights (the notebook's pretrain.pth); default: random")
    ap.add_argument("--quantlab", default="", help="path of the quantlab binary (for the quantlab loop)")
    ap.add_argument("--loops", default="notebook,resident,quantlab")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--workers", type=int, default=2, help="DataLoader workers of the notebook loop (the notebook's: 2)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--quantlab-steps", type=int, default=0,
                    help="optimizer steps of the quantlab run (default iters + warmup; its figure includes start-up steps)")
    ap.add_argument("--quantlab-bits", type=int, default=4, help="bits of the quantlab loops (32: float)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x, y = read_cifar_train(args.data, args.limit or None)
    print(f"torch {torch.__version__}, device {device}, {args.threads} threads, batch {args.batch}, "
          f"{args.iters} timed iterations after {args.warmup} warm-up", flush=True)
    results = {}
    for loop in [s for s in args.loops.split(",") if s]:
        if loop == "notebook":
            v = bench_notebook(args, x, y, device)
        elif loop == "resident":
            v = bench_resident(args, x, y, device)
        elif loop == "resident-graph":
            if device.type != "cuda":
                print("resident-graph: CUDA only, skipped")
                continue
            v = bench_resident(args, x, y, device, graph=True)
        elif loop in ("quantlab", "quantlab-eager", "quantlab-nchw"):
            if not args.quantlab:
                print(f"{loop}: --quantlab PATH not given, skipped")
                continue
            v = bench_quantlab(args, device, len(y), "off" if loop == "quantlab-eager" else "auto",
                               ("--channels-last", "off") if loop == "quantlab-nchw" else ())
        elif loop == "quantlab-core":
            if not args.quantlab:
                print(f"{loop}: --quantlab PATH not given, skipped")
                continue
            v = bench_quantlab(args, device, len(y), extra=("--engine", "core"))
        else:
            sys.exit(f"unknown loop {loop}")
        results[loop] = v
        print(f"{loop:16s} {v:12.0f} images/s", flush=True)
    for mine in ("quantlab", "quantlab-core"):
        if mine in results:
            for k, v in results.items():
                if k != mine:
                    print(f"{mine} / {k:14s} {results[mine] / v:6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "threads": args.threads, "batch": args.batch, "torch": torch.__version__,
                       "images_per_s": results}, f, indent=2)


if __name__ == "__main__":
    main()

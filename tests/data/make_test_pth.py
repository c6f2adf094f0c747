#!/usr/bin/env python3
"""Writes the small .pth files the pth_io unit tests and the pth fuzz corpus use.

Regenerate (from the repository root) with Debian's torch (python3-torch 1.13):
    /usr/bin/python3 tests/data/make_test_pth.py
The values are chosen to be exact in float32 so the C++ tests can compare them with ==.
It also refreshes the pth fuzz seeds in tests/fuzz/corpus/pth/. The files are deterministic for a
given torch version; commit them together with this script.
"""
import collections
import math
import os
import shutil
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "fuzz", "corpus", "pth")


def save(obj, name, **kw):
    path = os.path.join(HERE, name)
    torch.save(obj, path, **kw)
    print(f"{path}: {os.path.getsize(path)} bytes")
    return path


def main():
    # tiny.pth: the dtypes and pickle paths a real state_dict takes (float32 weights, int64 counter,
    # a Parameter saved as such, float16 and float64 converted to float32).
    sd = collections.OrderedDict()
    sd["lin.weight"] = torch.tensor([[0.5, -1.25, 2.0], [3.0, 4.5, -6.0]], dtype=torch.float32)
    sd["lin.bias"] = torch.tensor([0.25, 0.0, -0.125], dtype=torch.float32)
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["half"] = torch.tensor([1.5, -2.0], dtype=torch.float16)
    sd["double"] = torch.tensor([0.1, -3.0], dtype=torch.float64)
    sd["param"] = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tiny = save(sd, "tiny.pth")

    # tiny_views.pth: two views of one storage, at storage offsets 0 and 8.
    base = torch.arange(12, dtype=torch.float32).view(3, 4)
    save(collections.OrderedDict([("row0", base[0]), ("row2", base[2])]), "tiny_views.pth")

    # tiny_noncontig.pth: a transposed (non-contiguous) tensor, which the reader refuses.
    save({"t": torch.arange(6, dtype=torch.float32).view(2, 3).t()}, "tiny_noncontig.pth")

    # tiny_nan.pth: a diverged weight, which the reader refuses.
    save({"w": torch.tensor([1.0, math.nan])}, "tiny_nan.pth")

    # tiny_checkpoint.pth: a training checkpoint that holds the state_dict one level down.
    ckpt = save({"epoch": 3, "state_dict": collections.OrderedDict(w=torch.tensor([1.0, 2.0]))},
                "tiny_checkpoint.pth")

    # tiny_legacy.pth: the pre-1.6 non-zip format, which the reader refuses with a hint.
    save({"w": torch.tensor([1.0])}, "tiny_legacy.pth", _use_new_zipfile_serialization=False)

    os.makedirs(CORPUS, exist_ok=True)
    shutil.copy(tiny, os.path.join(CORPUS, "tiny.pth"))
    shutil.copy(ckpt, os.path.join(CORPUS, "tiny_checkpoint.pth"))
    shutil.copy(os.path.join(HERE, "tiny_views.pth"), os.path.join(CORPUS, "tiny_views.pth"))
    # The bare pickle too: fuzz_pth also feeds its input to the pickle parser directly.
    with zipfile.ZipFile(tiny) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
        with open(os.path.join(CORPUS, "tiny_data.pkl"), "wb") as f:
            f.write(z.read(pkl))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the seed corpus of the mask fuzz target (fuzz/corpus/mask/).

The target reads each input as a `file` pattern for B=1, H=2, 256 tokens
(fuzz/fuzz_targets.cpp), so the seeds are valid masks of that shape in every format the
reader accepts, from which the fuzzer mutates: FlexAttention .npz (stored, deflate,
ZIP64), .npy block bitmaps of each rank and dtype, an element mask, Fortran order,
big-endian data and a version 2.0 header. Reproducible byte for byte; numpy not needed.
"""
import os
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "bad-inputs", "masks"))
from make_masks import flex, npy_bytes, zip_bytes  # noqa: E402

OUT = os.path.join(HERE, "corpus", "mask")
TOKENS, BLOCK = 256, 128


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def zip64_bytes(arrays):
    path = os.path.join(OUT, ".tmp.npz")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as f:
                f.write(data)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    blocks = TOKENS // BLOCK
    arrays = flex(heads=2, blocks=blocks, block=BLOCK)
    write("flex.npz", zip_bytes(arrays))
    write("flex-deflate.npz", zip_bytes(arrays, zipfile.ZIP_DEFLATED))
    write("flex-zip64.npz", zip64_bytes(flex(heads=1, blocks=blocks, block=BLOCK, seq=False)))
    causal_blocks = [1 if k <= q else 0 for q in range(blocks) for k in range(blocks)]
    write("bitmap-2d.npy", npy_bytes("|b1", (blocks, blocks), "B", causal_blocks))
    write("bitmap-3d.npy", npy_bytes("|u1", (2, blocks, blocks), "B", causal_blocks * 2))
    write("bitmap-4d.npy", npy_bytes("<i8", (1, 2, blocks, blocks), "q", causal_blocks * 2))
    element = [1 if k <= q else 0 for q in range(TOKENS) for k in range(TOKENS)]
    write("element.npy", npy_bytes("|b1", (TOKENS, TOKENS), "B", element))
    fortran = npy_bytes("|u1", (blocks, blocks), "B", causal_blocks)
    write("bitmap-fortran.npy", fortran.replace(b"'fortran_order': False", b"'fortran_order': True "))
    big = npy_bytes(">i2", (blocks, blocks), "H", [0] * len(causal_blocks))
    header_len = len(big) - 2 * len(causal_blocks)
    write("bitmap-big-endian.npy", big[:header_len] + struct.pack(">%dh" % len(causal_blocks), *causal_blocks))
    v1 = npy_bytes("|b1", (blocks, blocks), "B", causal_blocks)
    header = v1[10:10 + struct.unpack("<H", v1[8:10])[0]]
    write("bitmap-v2.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header + v1[10 + len(header):])


if __name__ == "__main__":
    main()

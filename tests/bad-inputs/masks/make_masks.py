#!/usr/bin/env python3
"""Generate the mask files of the bad-input catalogue (tests/bad-inputs/README.md).

Writes, next to this script, small .npy / .npz files: valid FlexAttention block masks for
B=1, H=2, 512 tokens in 128-token blocks (a causal mask) and deliberately broken variants.
numpy is not required: the bytes are written by hand (tests/fixtures/npz/make_fixtures.py)
and zipped the way np.savez does. Output is byte-for-byte reproducible.
"""
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, "..", "..", "fixtures", "npz"))
from make_fixtures import npy_bytes  # noqa: E402


def flex(heads=2, blocks=4, block=128, seq=True, bad_index=False):
    """Causal FlexAttention BlockMask arrays: the diagonal partial, blocks below it full."""
    kv_num, kv_idx, full_num, full_idx = [], [], [], []
    for _h in range(heads):
        for q in range(blocks):
            kv_num.append(1)
            kv_idx.extend([q] + [k for k in range(blocks) if k != q])
            full_num.append(q)
            full_idx.extend(list(range(blocks)))
    if bad_index:
        kv_idx[0] = blocks + 5
    arrays = {
        "kv_num_blocks": npy_bytes("<i4", (1, heads, blocks), "i", kv_num),
        "kv_indices": npy_bytes("<i4", (1, heads, blocks, blocks), "i", kv_idx),
        "full_kv_num_blocks": npy_bytes("<i4", (1, heads, blocks), "i", full_num),
        "full_kv_indices": npy_bytes("<i4", (1, heads, blocks, blocks), "i", full_idx),
        "block_size": npy_bytes("<i4", (2,), "i", [block, block]),
    }
    if seq:
        arrays["seq_lengths"] = npy_bytes("<i8", (2,), "q", [blocks * block, blocks * block])
    return arrays


def zip_bytes(arrays, compression=zipfile.ZIP_STORED):
    path = os.path.join(HERE, ".tmp.npz")
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            info.external_attr = 0o600 << 16
            zf.writestr(info, data)
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def main():
    good = zip_bytes(flex())
    write("flex.npz", good)
    write("flex-noseq.npz", zip_bytes(flex(seq=False)))
    write("flex-heads3.npz", zip_bytes(flex(heads=3, seq=False)))
    write("flex-missing.npz", zip_bytes({"kv_num_blocks": flex()["kv_num_blocks"]}))
    write("flex-bad-index.npz", zip_bytes(flex(bad_index=True)))
    write("flex-truncated.npz", good[: len(good) * 6 // 10])
    # One payload byte of kv_indices changed after zipping: only the CRC can tell.
    at = good.index(flex()["kv_indices"]) + len(flex()["kv_indices"]) - 1
    write("flex-crc.npz", good[:at] + bytes([good[at] ^ 0x01]) + good[at + 1:])
    write("bitmap-3x3.npy", npy_bytes("|b1", (3, 3), "B", [1] * 9))
    write("float.npy", npy_bytes("<f4", (4, 4), "f", [1.0] * 16))
    write("values.npy", npy_bytes("|u1", (4, 4), "B", [1] * 5 + [2] + [1] * 10))
    write("truncated.npy", npy_bytes("|u1", (4, 4), "B", [1] * 16)[:-11])
    write("not-npy.npy", b"kv_num_blocks = [1, 1, 1, 1]\n")
    header = npy_bytes("|u1", (4, 4), "B", [1] * 16)
    write("bad-header.npy", header.replace(b"'shape': (4, 4), }", b"'shape': (4, 4,, }"))
    write("q-truncated.npy", npy_bytes("<f4", (1, 1, 16, 16), "f", [0.5] * 256)[:-100])


if __name__ == "__main__":
    main()

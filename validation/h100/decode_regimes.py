#!/usr/bin/env python3
"""Nsight Compute look at FlashAttention-2's two decode regimes (attnsim issue 4).

PyTorch's FLASH_ATTENTION backend runs one-token decode either with its split-KV
kernel (when batch x heads would not fill the GPU) or with the ordinary forward
kernel. The two reach different DRAM bandwidths; this script records, for a few
shapes of each regime, the launch configuration (grid, block, registers, shared
memory, occupancy limits), the SM clock, tensor-pipe activity and DRAM bytes.

    ncu --kernel-name regex:flash --csv --page raw --metrics ... \
        python3 validation/h100/decode_regimes.py > OUT/decode_regimes_raw.csv

Each shape runs twice (warm-up, then measured); both launches are profiled.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import measure  # noqa: E402

SHAPES = [("mha", 16384, 8), ("mha", 16384, 32), ("gqa", 16384, 32),  # one pass
          ("mha", 131072, 1), ("gqa", 16384, 8), ("gqa", 131072, 1)]  # split-KV


def main():
    for mode, s, b in SHAPES:
        qs, ks, vs = measure.decode_inputs(mode, s, b, 1)
        fn = measure.sdpa_call("fa2", qs[0], ks[0], vs[0], False, gqa=(mode == "gqa"))
        fn()
        torch.cuda.synchronize()
        fn()
        torch.cuda.synchronize()
        print("shape", mode, s, b, file=sys.stderr, flush=True)
        del qs, ks, vs, fn
        measure.free_cuda()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Nsight Compute probe for two model questions (attnsim issue 4).

1. Which kernel, grid and tile cuDNN's SDPA runs for short prefill at d = 64 and 128
   (the `fa3` family's kernel is cuDNN's, whose tiles are not documented).
   With `--imbalance`, the per-SM active cycles (min/avg/max) show whether a short
   causal prefill leaves SMs idle (a static tile schedule) or not.
2. How much of the 50 MB L2 holds a re-read working set: a buffer of W MB is summed
   three times; DRAM bytes of the third pass / W is the miss fraction at that size
   (run ncu with --cache-control none, or every pass starts from a flushed L2).

    ncu --csv --page raw --metrics ... python3 validation/h100/kernel_probe.py [--sdpa-only|--l2-only]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import measure  # noqa: E402

SDPA = [("fa3", 64, 1024, 16, 32, True), ("fa3", 64, 1024, 16, 32, False), ("fa3", 64, 4096, 4, 32, True),
        ("fa3", 128, 1024, 16, 16, True), ("fa3", 128, 1024, 16, 16, False), ("fa3", 128, 4096, 4, 16, False),
        ("fa2", 64, 1024, 16, 32, False), ("fa2", 128, 2048, 8, 16, True)]
L2_MB = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 192]


def main():
    sdpa = "--l2-only" not in sys.argv
    l2 = "--sdpa-only" not in sys.argv
    for label, d, s, b, h, causal in SDPA if sdpa else []:
        q, k, v = (torch.randn(b, h, s, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        fn = measure.sdpa_call(label, q, k, v, causal)
        fn()
        fn()
        torch.cuda.synchronize()
        print("sdpa %s d%d s%d b%d h%d causal=%s" % (label, d, s, b, h, causal), file=sys.stderr, flush=True)
        del q, k, v
    for mb in L2_MB if l2 else []:
        buf = torch.ones(mb * (1 << 20) // 4, device="cuda", dtype=torch.float32)
        for _ in range(3):
            buf.sum()
        torch.cuda.synchronize()
        print("l2 %d MB" % mb, file=sys.stderr, flush=True)
        del buf


if __name__ == "__main__":
    main()

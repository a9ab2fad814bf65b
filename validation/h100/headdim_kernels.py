#!/usr/bin/env python3
"""Which kernel each SDPA backend launches per head dim (run under Nsight Compute).

    ncu --csv --metrics launch__grid_size,launch__block_size,launch__registers_per_thread,\
launch__shared_mem_per_block_dynamic -k regex:'flash|fmha|cudnn|sm90' python3 headdim_kernels.py

One prefill call per (backend, head dim) at S = 8k, B = 2, 16 heads, non-causal: ncu profiles
each launch, and the kernel name carries the built head dim and tile shape (FA2:
Flash_fwd_kernel_traits<d, kBlockM, kBlockN, warps, ...>; cuDNN: ..._64x128x<d>_...; memory-
efficient: fmha_cutlassF_..._<rows>x<keys>_...). Output of the 2026-11-28 run (H200):
validation/h200/data/headdim/headdim_kernels_ncu.csv.
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"fa2": SDPBackend.FLASH_ATTENTION, "fa3": SDPBackend.CUDNN_ATTENTION,
            "mem_efficient": SDPBackend.EFFICIENT_ATTENTION}
DIMS = [int(d) for d in (sys.argv[1].split(",") if len(sys.argv) > 1 else "64,80,96,128,160,192,224,256".split(","))]

for label, be in BACKENDS.items():
    for d in DIMS:
        q, k, v = (torch.randn(2, 16, 8192, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        try:
            with sdpa_kernel([be]):
                F.scaled_dot_product_attention(q, k, v)
            torch.cuda.synchronize()
            print("ran %s d=%d" % (label, d), file=sys.stderr)
        except Exception as e:  # noqa: BLE001 - a backend may refuse a head dim
            print("skipped %s d=%d: %s" % (label, d, str(e).splitlines()[0][:120]), file=sys.stderr)

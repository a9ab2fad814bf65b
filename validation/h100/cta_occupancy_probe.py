#!/usr/bin/env python3
"""FA2 prefill with one and with two CTAs per SM, equal work per CTA, to run under Nsight Compute:
the share of an SM's throughput one CTA reaches alone (attnsim's `lone_cta_throughput_fraction`,
measured so far for the memory-efficient kernel only; validation/memeff_decode_occupancy.py).

    python3 cta_occupancy_probe.py [HEADS] [S]     # default 2,4,8,16 4096

S = 4096, d = 128, batch 1, non-causal: flash_fwd<128> runs 32 CTAs of 128 x 64 tiles per head, so
4 heads give 128 CTAs (one per SM on a 132-SM GPU) and 8 heads 256 (two per SM, its occupancy
limit). Each shape runs twice; read the second launch. The run of 2026-11-28 (H200),
validation/h200/data/occupancy/fa2_occupancy_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,\
launch__grid_size,sm__warps_active.avg.pct_of_peak_sustained_active,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active -k regex:flash_fwd \
python3 cta_occupancy_probe.py
and small grids, where mha_fwd's split heuristic launches flash_fwd_splitkv_kernel and its combine
kernel, fa2_small_grid_ncu.csv: the same ncu command with -k regex:flash and, in turn,
    python3 cta_occupancy_probe.py 32 256; ... 16 512; ... 8 1024; ... 2 4096; ... 2 8192
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

heads = [int(h) for h in (sys.argv[1] if len(sys.argv) > 1 else "2,4,8,16").split(",")]
S = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
for h in heads:
    q, k, v = (torch.randn(1, h, S, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    for _ in range(2):
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            F.scaled_dot_product_attention(q, k, v)
    torch.cuda.synchronize()
    print("ran heads=%d" % h, file=sys.stderr)

#!/usr/bin/env python3
"""FA2 at head dims it is not built for, under Nsight Compute: what the uneven-width path costs.

    ncu --csv --metrics <list> -k regex:flash_fwd python3 headdim_uneven.py [d,d,...]

One non-causal SDPA flash call per head dim (S = 8k, B = 2, 16 heads). d = 40 runs FA2's
64-wide kernel with Is_even_K false, d = 64 the same kernel with it true; the counters say
where the extra time goes (instructions, shared-memory stores, L2 sectors, tensor-pipe activity).
Output of the 2026-11-28 run (H200): validation/h200/data/headdim/headdim_uneven_ncu.csv.
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

DIMS = [int(d) for d in (sys.argv[1].split(",") if len(sys.argv) > 1 else "40,64,112,128".split(","))]
for d in DIMS:
    q, k, v = (torch.randn(2, 16, 8192, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        F.scaled_dot_product_attention(q, k, v)
    torch.cuda.synchronize()
    print("ran d=%d" % d, file=sys.stderr)

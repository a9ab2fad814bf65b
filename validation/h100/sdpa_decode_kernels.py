#!/usr/bin/env python3
"""One-token decode through one PyTorch SDPA backend, one call per shape, to run under Nsight
Compute: which kernel serves q_len = 1 (its tile is often in the name), its grid, registers and
occupancy, and where its time goes (instructions per pipe, tensor pipe, stalls). attnsim's decode
configs for the memory-efficient and cuDNN backends had guessed all of this (docs/NOTES.md).

    python3 sdpa_decode_kernels.py [BATCHES] [KV_LENS] [BACKEND] [KV_HEADS]
    # defaults: 1,8,32 4096,16384 mem_efficient 32

d = 128, 32 query heads, causal off (one query sees every key), random bf16 inputs; fewer KV heads
than 32 is GQA (enable_gqa; the memory-efficient backend refuses it). Each shape runs twice; the
second launch is the warm-code one to read. BACKEND: mem_efficient or cudnn.

The memory-efficient runs of 2026-11-28 (H200), validation/h200/data/decode_memeff/memeff_decode_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,\
launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block_dynamic,\
launch__shared_mem_per_block_static,launch__occupancy_limit_registers,launch__occupancy_limit_shared_mem,\
launch__waves_per_multiprocessor,dram__bytes_read.sum,smsp__inst_executed.sum,smsp__inst_executed_pipe_fma.sum,\
smsp__inst_executed_pipe_alu.sum,smsp__inst_executed_pipe_xu.sum,smsp__inst_executed_op_ldgsts.sum,\
smsp__inst_executed_op_ldsm.sum,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,\
$(echo smsp__average_warp_latency_issue_stalled_{barrier,short_scoreboard,long_scoreboard,\
math_pipe_throttle,mio_throttle,wait,not_selected}.ratio | tr ' ' ,) \
-k regex:fmha python3 sdpa_decode_kernels.py
and the occupancy step at 132 CTAs (batch 1-4: one CTA per SM, batch 5-8: two on some),
validation/h200/data/decode_memeff/memeff_decode_mixed_ncu.csv:
    ncu --csv --clock-control none --metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second,\
launch__grid_size,sm__warps_active.avg.pct_of_peak_sustained_active -k regex:fmha \
python3 sdpa_decode_kernels.py 1,2,4,5,6,8 16384
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

BACKENDS = {"mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
batches = [int(b) for b in (sys.argv[1] if len(sys.argv) > 1 else "1,8,32").split(",")]
kv_lens = [int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else "4096,16384").split(",")]
backend = BACKENDS[sys.argv[3] if len(sys.argv) > 3 else "mem_efficient"]
H, D = 32, 128
HKV = int(sys.argv[4]) if len(sys.argv) > 4 else H

for b in batches:
    for s in kv_lens:
        q = torch.randn(b, H, 1, D, device="cuda", dtype=torch.bfloat16)
        k, v = (torch.randn(b, HKV, s, D, device="cuda", dtype=torch.bfloat16) for _ in range(2))
        for _ in range(2):
            with sdpa_kernel([backend]):
                F.scaled_dot_product_attention(q, k, v, enable_gqa=HKV != H)
        torch.cuda.synchronize()
        print("ran b=%d kv=%d" % (b, s), file=sys.stderr)

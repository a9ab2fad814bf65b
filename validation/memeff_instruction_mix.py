#!/usr/bin/env python3
"""The memory-efficient kernel's non-tensor instructions per score, from Nsight Compute (not fitted).

Data: validation/h200/data/headdim/memeff_mix_ncu.csv (H200, 2026-11-28; the ncu command is in
validation/h100/headdim_kernels.py): the xformers kernels at d = 64 (64 x 64 tiles) and d = 128
(64 x 128), S = 8k, B = 2, 16 heads, non-causal. Both compute the same number of scores, the
d = 128 one twice the matrix FLOPs. Splitting each kernel's instructions other than its mma.sync
ones as  a x scores + b x mma instructions  gives a, the instructions the softmax and its
bookkeeping cost per score, whatever the head dim. attnsim's vector rate counts an FMA lane as two
operations (256 per clock per SM = 128 lanes), so one lane instruction is two of its
`softmax_vector_ops_per_element` (workloads/kernels/mem_efficient.yaml).

Usage: python3 validation/memeff_instruction_mix.py
"""
import csv
import io
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "validation", "h200", "data", "headdim", "memeff_mix_ncu.csv")
DIMS = [64, 128]  # the profiled run's order: headdim_kernels.py mem_efficient 64,128
B, H, S = 2, 16, 8192
MMA_FLOPS = 2 * 16 * 8 * 16  # one warp's mma.sync m16n8k16


def main():
    lines = [l for l in open(DATA) if l.startswith('"')]
    inst = {}
    for r in csv.DictReader(io.StringIO("".join(lines))):
        if r["Metric Name"] == "smsp__inst_executed.sum":
            inst[DIMS[int(r["ID"])]] = float(r["Metric Value"].replace(",", ""))
    scores = B * H * S * S
    mma = {d: 4.0 * scores * d / MMA_FLOPS for d in DIMS}  # QK^T and PV
    other = {d: inst[d] - mma[d] for d in DIMS}
    b = (other[128] - other[64]) / (mma[128] - mma[64])
    a = (other[64] - b * mma[64]) / scores
    for d in DIMS:
        print("d = %d: %.3g warp instructions, %.3g of them mma.sync, %.3g others" % (d, inst[d], mma[d], other[d]))
    print("per score: %.2f warp instructions = %.1f lane instructions = %.0f vector ops at 2 per lane "
          "instruction; per mma.sync: %.2f more" % (a, 32 * a, 64 * a, b))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What one CTA alone gets of an SM, from the memory-efficient kernel at q_len = 1 (not fitted).

Data: validation/h200/data/decode_memeff/memeff_decode_ncu.csv (H200, 2026-11-28; the ncu command
is in validation/h100/sdpa_decode_kernels.py). Every shape runs the prefill's d = 128 kernel
(fmha_cutlassF_..._64x128_rf: 64 query rows x 128 keys per K/V block, 256 threads, 2 CTAs per SM),
one CTA per (batch, head) streaming the whole cache. At batch 1 the 32 CTAs sit one per SM; from
batch 8 up two share each SM. An SM's clocks per K/V block are then the time of one CTA's block
alone, or of two CTAs' blocks together, and their ratio is the share of the pair's throughput a
lone CTA reaches: attnsim's `lone_cta_throughput_fraction` (workloads/kernels/mem_efficient_decode.yaml).
It also prints the instructions per block, which are the prefill tile's (12.2 thousand warp
instructions per 64 x 128 block at S = 8k, memeff_mix_ncu.csv): the softmax runs on all 64 rows.

Usage: python3 validation/memeff_decode_occupancy.py
"""
import os

from instruction_mix import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "validation", "h200", "data", "decode_memeff", "memeff_decode_ncu.csv")
SHAPES = [(b, s) for b in (1, 8, 32) for s in (4096, 16384)]  # sdpa_decode_kernels.py's order
HEADS, KV_BLOCK, SMS = 32, 128, 132


def main():
    m = metrics(DATA)
    per_block = {}
    for i, (b, s) in enumerate(SHAPES):
        k = m[2 * i + 1]  # each shape ran twice; the second launch is read
        ctas = b * HEADS
        per_sm = 2 if ctas > SMS else 1  # resident CTAs on a busy SM
        # One wave: the kernel ends with its busiest SM; several: blocks spread evenly.
        busiest = -(-ctas // SMS) if ctas <= 2 * SMS else ctas / SMS
        blocks_per_sm = busiest * (s // KV_BLOCK)
        clocks = k["gpu__time_duration.sum"] * 1e-9 * k["sm__cycles_elapsed.avg.per_second"]
        per_block[(b, s)] = clocks / blocks_per_sm
        print("b = %2d, kv = %5d: %4d CTAs, %d per SM, %6.0f SM clocks per K/V block, %5.0f warp instructions "
              "per block" % (b, s, ctas, per_sm, per_block[(b, s)],
                             k["smsp__inst_executed.sum"] / (ctas * (s // KV_BLOCK))))
    # The longest caches, where each CTA's prologue and epilogue weigh least.
    alone, pair = per_block[(1, 16384)], per_block[(32, 16384)]
    print("an SM with one CTA: %.0f clocks per block; with two: %.0f -> a lone CTA reaches %.2f of the "
          "SM's throughput" % (alone, pair, pair / alone))


if __name__ == "__main__":
    main()

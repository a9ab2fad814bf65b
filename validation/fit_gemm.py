#!/usr/bin/env python3
"""Fits the three constants of attnsim's GPU GEMM model (models/llm/impl/gpu_gemm.cpp) to
the H100 bf16 GEMM sweep (validation/h100/data/gemm.jsonl) on a calibration subset, and
prints model vs measured for every case (docs/capacity-planning.md, "GEMMs on GPUs").

  t = launch + max(waves * 2 tm tn k64 / (F_sm * tensor_efficiency) + kernel_overhead,
                   (batch (mk + kn + mn) * 2 B + split-K partials) / (B_hbm * gemm_memory_efficiency))
      [+ launch of the split-K reduction]

with the tile (tm, tn) the model picks as the fastest of 128x256, 256x128, 128x128, 64x128,
waves = ceil(tiles x splits / SMs), k64 = k / splits rounded up to 64. Split-K (as cuBLAS
does for few-row GEMMs, validation/h100/data/kernels/gemm_small_m.jsonl): when the tiles
fill less than one wave, k is split in the largest power of two that still fits one wave
(at most 16, at least 256 of k per split); fp32 partials are written and read back by a
reduction kernel. The small-M sweep validates (never fitted). No dependencies beyond Python 3."""
import json, math, sys

CLOCK_HZ, SMS, FLOP_PER_CLK_SM, HBM_BPS, LAUNCH_S = 1.83e9, 132, 4096, 3.35e12, 0.8e-6  # hw-configs/h100-sxm.yaml
TILES = [(128, 256), (256, 128), (128, 128), (64, 128)]
CAL_COMPUTE = {"gemm-square-b1-m2048-n2048-k2048", "gemm-square-b1-m8192-n8192-k8192", "gemm-proj-b1-m16384-n4096-k4096"}
CAL_MEMORY = {"gemm-skinny-b1-m8-n8192-k8192"}


def k_splits(tiles, k):
    s = 1
    while s < 16 and tiles * s * 2 <= SMS and k // (s * 2) >= 256:
        s *= 2
    return s


def model(r, eff, ov, mem_eff):
    b, m, n, k = r["gemm_batch"], r["m"], r["n"], r["k"]
    best = None
    for tm, tn in TILES:
        tiles = b * math.ceil(m / tm) * math.ceil(n / tn)
        s = k_splits(tiles, k)
        waves = math.ceil(tiles * s / SMS)
        comp = waves * 2 * tm * tn * math.ceil(k / (64 * s)) * 64 / (FLOP_PER_CLK_SM * CLOCK_HZ * eff) + ov
        partials = 2 * s * b * m * n * 4 if s > 1 else 0
        mem = (b * (m * k + k * n + m * n) * 2 + partials) / (HBM_BPS * mem_eff)
        t = LAUNCH_S * (2 if s > 1 else 1) + max(comp, mem)
        if best is None or t < best[0]:
            best = (t, f"{tm}x{tn}" + (f"/{s}k" if s > 1 else ""), "compute" if comp > mem else "memory")
    return best


def main(path="validation/h100/data/gemm.jsonl", small_m="validation/h100/data/kernels/gemm_small_m.jsonl"):
    recs = [json.loads(line) for line in open(path)]
    cal_m = [r for r in recs if r["case_id"] in CAL_MEMORY]
    # memory side: the bandwidth the calibration GEMV-like case reached, launches excluded
    # (its 64 tiles of 64x128 split k in two: a reduction kernel follows)
    mem_eff = sum(r["bytes_min"] / (r["time_us"] * 1e-6 - 2 * LAUNCH_S) / HBM_BPS for r in cal_m) / len(cal_m)
    best = None
    for eff in (x / 1000 for x in range(600, 951)):
        for ov in (x * 0.1e-6 for x in range(0, 80)):
            e = max(abs(model(r, eff, ov, mem_eff)[0] / (r["time_us"] * 1e-6) - 1) for r in recs if r["case_id"] in CAL_COMPUTE)
            if best is None or e < best[0]:
                best = (e, eff, ov)
    _, eff, ov = best
    print(f"tensor_efficiency {eff:.3f}  kernel_overhead {ov * 1e6:.1f} us  gemm_memory_efficiency {mem_eff:.3f}")
    for r in recs:
        t, tile, bound = model(r, eff, ov, mem_eff)
        split = "cal" if r["case_id"] in CAL_COMPUTE | CAL_MEMORY else "val"
        print(f"{split}  {r['case_id']:40s} model {t * 1e6:9.1f} us  measured {r['time_us']:9.1f} us  {100 * (t / (r['time_us'] * 1e-6) - 1):+6.1f}%  {tile} {bound}")
    errs = []
    for line in open(small_m):
        r = json.loads(line)
        t, tile, bound = model(r, eff, ov, mem_eff)
        errs.append(abs(t / (r["time_us"] * 1e-6) - 1))
        print(f"val  {r['case_id']:40s} model {t * 1e6:9.1f} us  measured {r['time_us']:9.1f} us  {100 * (t / (r['time_us'] * 1e-6) - 1):+6.1f}%  {tile} {bound}")
    print(f"small-M sweep (validation only): MAPE {100 * sum(errs) / len(errs):.1f}%  max {100 * max(errs):.1f}%")


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Fits the three constants of attnsim's GPU GEMM model (models/llm/impl/gpu_gemm.cpp) to
the H100 bf16 GEMM sweep (validation/h100/data/gemm.jsonl) on a calibration subset, and
prints model vs measured for every case (docs/capacity-planning.md, "GEMMs on GPUs").

  t = launch + max(waves * 2 tm tn k64 / (F_sm * tensor_efficiency) + kernel_overhead,
                   batch (mk + kn + mn) * 2 B / (B_hbm * gemm_memory_efficiency))

with the tile (tm, tn) the model picks as the fastest of 128x256, 256x128, 128x128, 64x128,
waves = ceil(tiles / SMs), k64 = k rounded up to 64. No dependencies beyond Python 3."""
import json, math, sys

CLOCK_HZ, SMS, FLOP_PER_CLK_SM, HBM_BPS, LAUNCH_S = 1.83e9, 132, 4096, 3.35e12, 0.8e-6  # hw-configs/h100-sxm.yaml
TILES = [(128, 256), (256, 128), (128, 128), (64, 128)]
CAL_COMPUTE = {"gemm-square-b1-m2048-n2048-k2048", "gemm-square-b1-m8192-n8192-k8192", "gemm-proj-b1-m16384-n4096-k4096"}
CAL_MEMORY = {"gemm-skinny-b1-m8-n8192-k8192"}


def model(r, eff, ov, mem_eff):
    b, m, n, k = r["gemm_batch"], r["m"], r["n"], r["k"]
    mem = b * (m * k + k * n + m * n) * 2 / (HBM_BPS * mem_eff)
    best = None
    for tm, tn in TILES:
        waves = math.ceil(b * math.ceil(m / tm) * math.ceil(n / tn) / SMS)
        comp = waves * 2 * tm * tn * math.ceil(k / 64) * 64 / (FLOP_PER_CLK_SM * CLOCK_HZ * eff) + ov
        t = LAUNCH_S + max(comp, mem)
        if best is None or t < best[0]:
            best = (t, f"{tm}x{tn}", "compute" if comp > mem else "memory")
    return best


def main(path="validation/h100/data/gemm.jsonl"):
    recs = [json.loads(line) for line in open(path)]
    cal_m = [r for r in recs if r["case_id"] in CAL_MEMORY]
    # memory side: the bandwidth the calibration GEMV-like case reached, launch excluded
    mem_eff = sum(r["bytes_min"] / (r["time_us"] * 1e-6 - LAUNCH_S) / HBM_BPS for r in cal_m) / len(cal_m)
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


if __name__ == "__main__":
    main(*sys.argv[1:])

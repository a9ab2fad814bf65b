#!/usr/bin/env python3
"""Non-tensor instructions per score of the attention kernels, from Nsight Compute (not fitted).

Data (H200, 2026-11-28; the ncu commands are in validation/h100/headdim_kernels.py), all at
S = 8k, B = 2, 16 heads, non-causal, at d = 64 and d = 128, which compute the same scores:
  validation/h200/data/headdim/memeff_mix_ncu.csv  memory-efficient (xformers, mma.sync)
  validation/h200/data/headdim/fa_mix_ncu.csv      FA2 (mma.sync), then cuDNN (wgmma)

1. The split. Each kernel's instructions other than its mma.sync ones are  a x scores + b x mma
   instructions; a is what the softmax and its bookkeeping cost per score at any head dim.
   attnsim's vector rate counts an FMA lane as two operations (256 per clock per SM = 128
   lanes), so one lane instruction is two `softmax_vector_ops_per_element`. (cuDNN's wgmma
   instructions are few; its b is per 4096 matrix FLOPs.)
2. The pipes. The instructions do not share one pipe: per SM and clock the H100/H200 SM issues 4
   warp instructions (one per sub-partition) and runs 128 FP32 lanes (FMA pipe), 64 integer /
   compare / select lanes (ALU pipe) and 16 transcendental lanes (XU pipe: exp2), concurrently
   (CUDA C++ Programming Guide, arithmetic instruction throughput, compute capability 9.0). The
   busiest of issue, FMA, ALU and XU bounds the non-tensor time per score; attnsim charges the
   exp on the XU rate plus the vector ops on the FMA rate, one after the other.

Usage: python3 validation/instruction_mix.py
"""
import csv
import io
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "validation", "h200", "data", "headdim")
B, H, S = 2, 16, 8192
SCORES = B * H * S * S
MMA_SYNC_FLOPS = 2 * 16 * 8 * 16  # one warp's mma.sync m16n8k16
# Per SM and clock (compute capability 9.0): warp instructions issued, and warp instructions each
# pipe completes (lanes / 32).
ISSUE, FMA, ALU, XU = 4.0, 128 / 32, 64 / 32, 16 / 32
# (file, profiled order of (kernel, d), the kernel's mma instruction FLOPs or None when wgmma,
# attnsim's config with its softmax_vector_ops_per_element)
SETS = [("memeff_mix_ncu.csv", [("mem_efficient", 64), ("mem_efficient", 128)], MMA_SYNC_FLOPS, 60),
        ("fa_mix_ncu.csv", [("fa2", 64), ("fa2", 128)], MMA_SYNC_FLOPS, 4),
        ("fa_mix_ncu.csv", [("cudnn", 64), ("cudnn", 128)], None, 4)]


def metrics(path, fields=()):
    """An `ncu --csv` file's metrics: {launch ID: {metric name: value}} (n/a values left out), plus
    the columns named in `fields` (e.g. "Kernel Name", "Grid Size") as text."""
    lines = [l for l in open(path) if l.startswith('"')]
    out = {}
    for r in csv.DictReader(io.StringIO("".join(lines))):
        launch = out.setdefault(int(r["ID"]), {f: r[f] for f in fields})
        if r["Metric Value"] != "n/a":
            launch[r["Metric Name"]] = float(r["Metric Value"].replace(",", ""))
    return out


def main():
    print("per score (S = 8k, B = 2, 16 heads): warp instructions and SM clocks per pipe; "
          "attnsim's charge = 1/16 (exp) + ops/256")
    offsets = {}
    for name, runs, mma_flops, ops in SETS:
        m = metrics(os.path.join(DATA, name))
        first = offsets.get(name, 0)
        offsets[name] = first + len(runs)
        rows = {d: m[first + i] for i, (_, d) in enumerate(runs)}
        kernel = runs[0][0]
        # The split (1.): mma instructions, or for wgmma the matrix FLOPs in units of 4096.
        unit = mma_flops or 4096
        mma = {d: 4.0 * SCORES * d / unit for d in rows}
        other = {d: rows[d]["smsp__inst_executed.sum"] - (mma[d] if mma_flops else 0) for d in rows}
        b = (other[128] - other[64]) / (mma[128] - mma[64])
        a = (other[64] - b * mma[64]) / SCORES
        print("%s: %.3f warp instructions per score = %.1f lane instructions = %.0f vector ops at two per "
              "lane instruction; %.2f more per %s" % (kernel, a, 32 * a, 64 * a, b,
                                                      "mma.sync" if mma_flops else "4096 matrix FLOPs"))
        for d, r in rows.items():  # the pipes (2.)
            per = {k: r["smsp__inst_executed%s.sum" % s] / SCORES
                   for k, s in [("issue", ""), ("fma", "_pipe_fma"), ("alu", "_pipe_alu"), ("xu", "_pipe_xu")]}
            clocks = {"issue": per["issue"] / ISSUE, "fma": per["fma"] / FMA, "alu": per["alu"] / ALU,
                      "xu": per["xu"] / XU}
            busiest = max(clocks, key=clocks.get)
            print("  d = %3d: clocks per score  issue %.3f  fma %.3f  alu %.3f  xu %.3f  (busiest: %s);  "
                  "attnsim %.3f" % (d, clocks["issue"], clocks["fma"], clocks["alu"], clocks["xu"], busiest,
                                    1 / 16 + ops / 256))


if __name__ == "__main__":
    main()

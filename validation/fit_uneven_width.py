#!/usr/bin/env python3
"""FA2's cost at head dims below its built ones (Is_even_K false): count from Nsight Compute, fit the rate.

Data: validation/h200/data/headdim/ (H200, 2026-11-28; docs/validation.md, "Head dims between the
built ones"). Kept out of the gated H100/H200 sets; split into calibration and validation cases by
the same case-id hash rule as every other measurement (attnsim validate's `set` column).

1. The tiles' `uneven_width_smem_wavefronts_per_key` (workloads/kernels/fa2.yaml) are read off
   Nsight Compute, not fitted: headdim_uneven_all_ncu.csv profiles FA2 at 16 head dims (S = 8k,
   B = 2, 16 heads, non-causal; the command is in headdim_kernels.py). The kernel name says which
   kernel ran and whether Is_even_K was set; a kernel's count is the mean, over the head dims it
   runs unevenly, of its shared-memory store wavefronts per key row a CTA reads, less its own at
   its built head dim.
2. `uneven_width_cycles_per_wavefront` is fitted with the configured counts: a grid scan of the
   MAPE over the *calibration* FA2 cases whose head dim is below its built one. The validation
   cases of that kind are printed beside it, never used.

It prints both; a person copies them into fa2.yaml with their source tags.

Usage: python3 validation/fit_uneven_width.py [--attnsim build/attnsim]
"""
import argparse
import os
import re
import statistics
import sys

from fit_calibration import ROOT, scratch_root, set_key, validate_rows
from instruction_mix import metrics

DATA = os.path.join(ROOT, "validation", "h200", "data", "headdim")
# The head dims of headdim_kernels.py's profiled run, in order (its docstring has the command).
PROFILED_DIMS = [32, 40, 48, 64, 72, 80, 88, 96, 104, 120, 128, 160, 176, 192, 224, 256]
SEQ = 8192
BUILT = [32, 64, 96, 128, 192, 256]
RATES = [round(0.25 * i, 2) for i in range(17)]  # cycles per wavefront, 0..4
# flash_fwd_kernel<Flash_fwd_kernel_traits<d, kBlockM, kBlockN, warps, ...>, Is_dropout, Is_causal,
# Is_local, Has_alibi, Is_even_MN, Is_even_K, ...>
NAME = re.compile(r"Flash_fwd_kernel_traits<(\d+), \d+, (\d+), \d+,.*?>>, (\d), (\d), (\d), (\d), (\d), (\d),")


def wavefronts_per_key():
    kernels = metrics(os.path.join(DATA, "headdim_uneven_all_ncu.csv"), ("Kernel Name", "Grid Size"))
    per_key = {}  # (built head dim, even) -> [(head dim, wavefronts per key row)]
    for i, k in sorted(kernels.items()):
        m = NAME.search(k["Kernel Name"])
        built, even_k = int(m.group(1)), m.group(8) == "1"
        ctas = 1
        for g in re.findall(r"\d+", k["Grid Size"]):
            ctas *= int(g)
        wf = k["l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum"] / (ctas * SEQ)  # every CTA reads all keys
        per_key.setdefault((built, even_k), []).append((PROFILED_DIMS[i], wf))
    out = {}
    for (built, even_k), runs in sorted(per_key.items()):
        if even_k or (built, True) not in per_key:
            continue
        base = per_key[(built, True)][0][1]
        out[built] = [(d, wf - base) for d, wf in runs]
    return out
def uneven(head_dim):
    return head_dim not in BUILT and head_dim < BUILT[-1]


def run(attnsim, scratch):
    rows = []
    for r in validate_rows(attnsim, scratch, [os.path.join(DATA, "sdpa_headdim.jsonl")], ["--family", "prefill/fa2"]):
        d = int(re.search(r"-d(\d+)-", r["case_id"]).group(1))
        if uneven(d):
            rows.append((r["set"], abs(float(r["attnsim_us"]) / float(r["measured_us"]) - 1)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attnsim", default=os.path.join(ROOT, "build", "attnsim"))
    args = ap.parse_args()
    counts = wavefronts_per_key()
    for built, runs in counts.items():
        print("flash_fwd<%d>: %.2f extra store wavefronts per key row (%s)" % (
            built, statistics.mean(w for _, w in runs), ", ".join("d = %d: %.2f" % r for r in runs)))
    with scratch_root("attnsim-uneven-") as scratch:
        fa2 = os.path.join(scratch, "workloads", "kernels", "fa2.yaml")
        text = open(fa2).read()
        best = None
        for rate in RATES:
            open(fa2, "w").write(set_key(text, "uneven_width_cycles_per_wavefront", "%g" % rate))
            rows = run(args.attnsim, scratch)
            cal = [e for s, e in rows if s == "calibration"]
            val = [e for s, e in rows if s == "validation"]
            print("cycles per wavefront %4.2f: calibration MAPE %5.1f%% (n=%d), validation %5.1f%% (n=%d, not used)" %
                  (rate, 100 * statistics.mean(cal), len(cal), 100 * statistics.mean(val), len(val)), flush=True)
            if best is None or statistics.mean(cal) < best[0]:
                best = (statistics.mean(cal), rate, statistics.mean(val), max(val))
        print("fitted: uneven_width_cycles_per_wavefront %g (calibration MAPE %.1f%%; validation MAPE %.1f%%, "
              "max %.1f%%)" % (best[1], 100 * best[0], 100 * best[2], 100 * best[3]))


if __name__ == "__main__":
    sys.exit(main())

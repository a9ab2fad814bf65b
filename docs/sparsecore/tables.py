#!/usr/bin/env python3
"""Prints the tables of docs/sparsecore.md from the sweep CSVs in this folder.

    python3 docs/sparsecore/tables.py

Break-even densities are interpolated linearly in log(density) between the two grid
points where the speedup crosses 1 ("> 0.5" when it never falls to 1 on the grid).
"""
import csv
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(HERE, name + ".csv")) as f:
        return list(csv.DictReader(f))


def break_even(points):
    """points: [(density, speedup)] ascending in density."""
    for (d0, s0), (d1, s1) in zip(points, points[1:]):
        if s0 >= 1 > s1:
            t = math.log(s0) / (math.log(s0) - math.log(s1))
            return "%.3g" % math.exp(math.log(d0) + t * (math.log(d1) - math.log(d0)))
    if points and points[0][1] < 1:
        return "never (below 1 on the whole grid)"
    return "> %g" % points[-1][0]


def main_table():
    rows = load("main")
    densities = sorted({float(r["workload.pattern.density"]) for r in rows})
    for kv in ("8192", "16384"):
        for bw in ("16GB/s", "64GB/s", "256GB/s"):
            print("\nkv_len %s, gather bandwidth %s per SM: speedup over the best software kernel\n" % (kv, bw))
            print("| cluster_tokens | " + " | ".join("%g" % d for d in densities) + " | break-even density |")
            print("|---|" + "---|" * (len(densities) + 1))
            for c in ("1", "4", "16", "64", "128"):
                sel = [r for r in rows if r["workload.kv_len"] == kv and r["hw.sparsecore.gather_bandwidth"] == bw
                       and r["workload.pattern.cluster_tokens"] == c]
                pts = [(float(r["workload.pattern.density"]), float(r["speedup"])) for r in sel]
                print("| %s | " % c + " | ".join("%.2f" % s for _, s in pts) + " | %s |" % break_even(pts))


def eightx_table():
    rows = load("8x")
    bws = ["16GB/s", "32GB/s", "64GB/s", "128GB/s", "1TB/s"]
    print("\nkv_len 16384, scattered per-query selections (cluster_tokens 1): speedup by unit size and gather bandwidth per SM\n")
    print("| kernel (rows per unit) | density | " + " | ".join(bws) + " |")
    print("|---|---|" + "---|" * len(bws))
    for k, label in (("sparsecore_gather", "128"), ("sparsecore_gather_q64", "64"), ("sparsecore_gather_q16", "16, mma.sync")):
        for d in ("0.0025", "0.005", "0.01", "0.02"):
            sel = {r["hw.sparsecore.gather_bandwidth"]: float(r["speedup"]) for r in rows
                   if r["kernel"] == k and r["workload.pattern.density"] == d}
            print("| %s (%s) | %s | " % (k, label, d) + " | ".join("%.2f" % sel[b] for b in bws) + " |")


def simple(name, keys, title):
    rows = load(name)
    print("\n" + title + "\n")
    print("| " + " | ".join(k.split(".")[-1] for k in keys) + " | latency_us | best baseline | best_baseline_us | speedup |")
    print("|" + "---|" * (len(keys) + 4))
    for r in rows:
        print("| " + " | ".join(r[k] for k in keys) + " | %.1f | %s | %.1f | %.2f |" % (
            float(r["latency_us"]), r["best_baseline"], float(r["best_baseline_us"]), float(r["speedup"])))


if __name__ == "__main__":
    main_table()
    eightx_table()
    simple("sharing", ["workload.pattern.query_group_tokens", "workload.pattern.density"],
           "kv_len 16384, scattered keys shared by query_group_tokens positions (sparsecore_gather_q64, 64 GB/s per SM)")
    simple("length", ["workload.pattern.cluster_tokens", "workload.pattern.density", "workload.kv_len"],
           "sequence length (sparsecore_gather_q64, 64 GB/s per SM)")
    simple("placement", ["hw.sparsecore.placement", "workload.pattern.density", "area_mm2", "gather_us", "matrix_us"],
           "placement at equal aggregate gather bandwidth (sparsecore_gather_q64, 16k, cluster_tokens 1)")
    simple("tpu", ["workload.pattern.cluster_tokens", "workload.pattern.density"],
           "TPU v5p host (sparsecore_gather_tpu, 1 TB/s per TensorCore, 16k)")

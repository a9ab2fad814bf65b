#!/usr/bin/env python3
"""How long a line survives in the H100's L2: the replacement policy the GPU model needs (issue 4).

For each F, three kernels run back to back: read A (4 MiB), move F bytes of other data
through L2, read A again. Nsight Compute counts the DRAM bytes of the last read:
(DRAM bytes) / |A| is the fraction of A evicted by F bytes of fills. Random replacement
gives 1 - exp(-F/C); LRU gives 0 below F ~ C - |A| and 1 above. The fills are reads
(`read`: B.sum()) or writes (`write`: B.fill_()), the two ways attention kernels fill L2
(K/V and Q loads, O stores). A 256 MiB read before each point leaves the cache full of
older data, as it is in the middle of a kernel.

Second experiment (`hot`): A is re-read after every f bytes of other reads, ROUNDS times,
as attention K/V tiles are re-read while other heads' data streams in. The DRAM bytes of
each re-read give the per-interval miss fraction of data that is in use: LRU keeps it
(|A| + f below capacity), random replacement loses about f/C of it per interval. `alt`
re-reads A with a different reduction shape, so other SMs touch each line than last time.

    python3 validation/h100/l2_survival.py --out DIR      (runs ncu on itself)
    python3 validation/h100/l2_survival.py --summarize DIR   (prints the miss fractions)
"""
import argparse
import json
import os
import subprocess
import sys

A_MIB = 4
F_MIB = [0, 4, 8, 12, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 192]
MODES = ["read", "write"]
HOT_A_MIB = [4, 16, 32]
HOT_F_MIB = [1, 4, 8]
HOT_VARIANTS = ["same", "alt"]
ROUNDS = 12


def hot_points():
    return [(v, am, fm) for v in HOT_VARIANTS for am in HOT_A_MIB for fm in HOT_F_MIB]


def points():
    return [(mode, f) for mode in MODES for f in F_MIB]


def run_targets():
    import torch

    mib = 1 << 20
    junk = torch.ones(256 * mib // 4, device="cuda")
    a = torch.ones(A_MIB * mib // 4, device="cuda")
    pool = torch.ones((max(F_MIB) + max(HOT_A_MIB) + ROUNDS * max(HOT_F_MIB)) * mib // 4 + 1, device="cuda")
    for mode, f in points():
        junk.sum()
        a.sum()
        if f:
            b = pool[: f * mib // 4]
            if mode == "read":
                b.sum()
            else:
                b.fill_(2.0)
        else:
            torch.cuda._sleep(10)  # keeps three launches per point
        a.sum()
        torch.cuda.synchronize()
    print("ran %d points" % len(points()), flush=True)
    for variant, am, fm in hot_points():
        junk.sum()
        hot = pool[: am * mib // 4]
        hot.sum()
        for r in range(ROUNDS):
            b = pool[(am + r * fm) * mib // 4: (am + (r + 1) * fm) * mib // 4]  # fresh data every round
            b.sum()
            if variant == "alt" and r % 2:
                hot.view(2, -1).sum(1)
            else:
                hot.sum()
        torch.cuda.synchronize()
    print("ran %d hot points" % len(hot_points()), flush=True)


def summarize(d):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from l2_probe_records import kernels

    meta = json.load(open(os.path.join(d, "l2_survival_points.json")))
    ks = kernels(os.path.join(d, "l2_survival_ncu.csv"))
    while "reduce" not in ks[0]["name"]:  # the buffers' initial fills
        ks.pop(0)
    mib = 1 << 20
    print("read once, then F MiB of other data, then re-read (%d MiB):" % meta["a_mib"])
    for i, (mode, f) in enumerate(meta["points"]):
        g = ks[4 * i: 4 * i + 4]
        print("  %-5s F=%3d MiB  missed %.3f" % (mode, f, g[3]["metrics"]["dram__bytes_read.sum"] / (meta["a_mib"] * mib)))
    if "hot_points" not in meta:  # a run of the first experiment only
        return
    rest = ks[4 * len(meta["points"]):]
    n = meta["launches_per_hot_point"]
    print("re-read after every f MiB of other data, %d rounds (miss per round, mean of the last 8):" % meta["rounds"])
    for i, (variant, am, fm) in enumerate(meta["hot_points"]):
        g = rest[n * i: n * i + n]
        miss = [g[3 + 2 * r]["metrics"]["dram__bytes_read.sum"] / (am * mib) for r in range(meta["rounds"])]
        print("  %-4s A=%2d MiB f=%d MiB  %.4f" % (variant, am, fm, sum(miss[-8:]) / 8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--targets", action="store_true", help="internal: run the kernels (under ncu)")
    ap.add_argument("--summarize", metavar="DIR", help="print the miss fractions from a finished run")
    a = ap.parse_args()
    if a.targets:
        run_targets()
        return
    if a.summarize:
        summarize(a.summarize)
        return
    os.makedirs(a.out, exist_ok=True)
    raw = os.path.join(a.out, "l2_survival_ncu.csv")
    # Application replay and no cache control: every pass reruns the whole program, so the
    # L2 holds what the earlier kernels left, as without the profiler.
    cmd = ["ncu", "--clock-control", "none", "--cache-control", "none", "--replay-mode", "application",
           "--metrics", "dram__bytes_read.sum,dram__bytes_write.sum,lts__t_sectors_srcunit_tex_op_read_lookup_miss.sum",
           "--csv", "--print-units", "base", "--log-file", raw, sys.executable, os.path.abspath(__file__), "--targets"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    print((r.stdout + r.stderr)[-3000:])
    with open(os.path.join(a.out, "l2_survival_points.json"), "w") as f:
        json.dump({"a_mib": A_MIB, "points": points(), "launches_per_point": 4, "rounds": ROUNDS,
                   "hot_points": hot_points(), "launches_per_hot_point": 2 + 2 * ROUNDS}, f)


if __name__ == "__main__":
    main()

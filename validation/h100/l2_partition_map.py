#!/usr/bin/env python3
"""Which L2 partition each H100 SM is attached to, and where consecutive CTAs land.

    python3 validation/h100/l2_partition_map.py --out DIR        (on the GPU machine: builds and runs
                                                                  microbench/l2_partition_map.cu)
    python3 validation/h100/l2_partition_map.py --summarize FILE  (prints the sides and the placement)

A reference SM reads every other SM's private cold lines first; each SM then times its own
lines. An SM on the reference's side finds them all in its near partition; one on the other
side fetches the lines homed on the reference's side over the fabric (about half its loads
slow). The sides found from different reference SMs must agree. The placement run records
blockIdx -> SM for FA2-like CTAs (two per SM).
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys

import standalone



def run(out):
    os.makedirs(out, exist_ok=True)
    exe = standalone.build(out, "l2_partition_map")
    with open(os.path.join(out, "l2_partition_map.jsonl"), "w") as f:
        subprocess.run([exe], check=True, stdout=f)
    os.remove(exe)
    standalone.write_gpu_info(os.path.join(out, "l2_partition_map_gpu.txt"))


def read(path):
    side_rows = collections.defaultdict(dict)  # (ref, rep) -> sm -> latencies
    place = collections.defaultdict(dict)      # (grid, rep) -> block -> (sm, start)
    for line in open(path):
        j = json.loads(line)
        if j["kind"] == "side":
            side_rows[(j["ref"], j["rep"])][j["sm"]] = j["lat_cycles"]
        else:
            place[(j["grid"], j["rep"])][j["block"]] = (j["sm"], j["start_ns"])
    return side_rows, place


def sm_sides(side_rows, log=lambda *a: None):
    """{SM: 0 on SM 0's partition, else 1}, from the reference-SM latency runs."""
    # Slow loads: above the midpoint between the fastest and the slowest decile over all loads.
    every = sorted(x for rows in side_rows.values() for lat in rows.values() for x in lat[1:])
    lo, hi = every[len(every) // 10], every[9 * len(every) // 10]
    cut = (lo + hi) / 2
    log("load latency: p10 %d cycles, p90 %d cycles; slow = above %d" % (lo, hi, cut))
    sides = {}  # ref -> {sm: same side as ref?}
    for (ref, rep), rows in sorted(side_rows.items()):
        frac = {sm: sum(x > cut for x in lat[1:]) / (len(lat) - 1) for sm, lat in rows.items() if sm != ref}
        same = {sm: f < 0.25 for sm, f in frac.items()}
        mixed = [sm for sm, f in frac.items() if 0.1 < f < 0.35 or f > 0.7]
        log("ref SM %3d rep %d: %3d SMs on its side, %3d on the other; slow share on the other side %.2f; unclear %s"
            % (ref, rep, sum(same.values()), len(same) - sum(same.values()),
               statistics.mean(f for sm, f in frac.items() if not same[sm]) if len(same) > sum(same.values()) else 0,
               mixed[:8]))
        sides.setdefault(ref, {}).update(same)
    # One labelling: side of SM s = 0 if on SM 0's side (from ref 0), else 1; check the others.
    base = sides.get(0)
    if base is None:
        return None
    label = {0: 0}
    label.update({sm: 0 if same else 1 for sm, same in base.items()})
    for ref, same in sides.items():
        agree = sum((label[sm] == label[ref]) == s for sm, s in same.items() if sm in label and ref in label)
        log("ref SM %3d: agrees with ref 0's sides on %d of %d SMs" % (ref, agree, len(same)))
    return label


def summarize(path):
    side_rows, place = read(path)
    label = sm_sides(side_rows, print)
    if label is None:
        return
    print("side of SM 0..%d: %s" % (max(label), "".join(str(label.get(s, "?")) for s in range(max(label) + 1))))
    for (grid, rep), blocks in sorted(place.items()):
        order = [blocks[b][0] for b in sorted(blocks)]
        first = order[: min(len(order), 264)]
        seq = "".join(str(label.get(sm, "?")) for sm in first)
        same_next = sum(label.get(a) == label.get(b) for a, b in zip(first, first[1:])) / max(1, len(first) - 1)
        print("grid %d rep %d: first 264 CTAs' SMs %s ..." % (grid, rep, first[:24]))
        print("   their sides %s" % seq)
        print("   consecutive CTAs on the same side: %.2f; side-0 share of CTAs 0-65: %.2f, 66-131: %.2f"
              % (same_next, seq[:66].count("0") / 66, seq[66:132].count("0") / 66))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--summarize")
    a = ap.parse_args()
    if a.out:
        run(a.out)
    if a.summarize:
        summarize(a.summarize)


if __name__ == "__main__":
    sys.exit(main())

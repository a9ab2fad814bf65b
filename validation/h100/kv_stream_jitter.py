#!/usr/bin/env python3
"""Do identical tiles' small duration differences set the DRAM bytes of long causal prefill? (issue 4)

    python3 validation/h100/kv_stream_jitter.py [FILE [INDEX ...]]

FILE (default data/micro/traced/fa2/kv_stream_traced.jsonl) holds traced grid-mode (`g`) causal
kernels (kv_stream_drift.py --trace --set fa2). For each causal kernel it fits the measured tile
durations as a + b x steps, prints how much identical tiles (the same query block of different
heads) differ, then schedules the tiles as the block scheduler does (in grid order, each to the
first free slot of 2 x 132) with durations a + b x steps times (1 + e), e ~ N(0, sigma), and
replays that timeline through attnsim's L2 model (validation/tools/attnsim_l2_replay, sampling as
attnsim does beyond 6 M tile reads). sigma = 0 is attnsim's own assumption: identical tiles take
exactly as long.
"""
import argparse
import heapq
import json
import os
import random
import statistics
import sys
import tempfile

from kv_stream_replay import build_tool, load_trace, replay, tile_steps, write_header

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIGMAS = [0.0, 0.005, 0.01, 0.02]
SLOTS, SM_RUN = 264, 16  # two CTAs per SM on 132 SMs; the H100 config's l2_partition_sm_run


def schedule(r, a, b, sigma):
    rnd = random.Random(1)
    free = [(0.0, i) for i in range(SLOTS)]
    heapq.heapify(free)
    out = []
    for t in range(len(r["tile_start_ns"])):
        start, slot = heapq.heappop(free)
        n = tile_steps(r, t)
        d = max(a + b * n, 0.5 * b * n) * (1 + rnd.gauss(0, sigma))
        out.append((start, d, slot))
        heapq.heappush(free, (start + d, slot))
    return out


def replay_schedule(r, sched, tool, hw, rate):
    tiles_per_head = r["seq"] // 128
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        write_header(r, f)
        for t, (t0, d, slot) in enumerate(sched):
            head, n = t // tiles_per_head, tile_steps(r, t)
            side = (slot // 2 // SM_RUN) % 2  # slot 2s and 2s + 1 share SM s
            f.write("f %.9e 32768 0 %d\n" % (t0, side))
            for k in range(0, n, 16):  # FA2's order: keys last to first
                c = min(16, n - k)
                f.write("c %.9e %.9e %d %d %d %d 1\n" % (t0 + k * d / n, t0 + (k + c) * d / n, head, side, n - k - c, c))
            f.write("f %.9e 32768 1 %d\n" % (t0 + d, side))
    reads = replay(tool, hw, f.name, rate)["kv_miss_bytes"] / r["kv_bytes"]
    os.remove(f.name)
    return reads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=os.path.join(HERE, "data", "micro", "traced", "fa2", "kv_stream_traced.jsonl"))
    ap.add_argument("--attnsim-dir", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    tool = build_tool(a.attnsim_dir)
    hw = os.path.join(ROOT, "hw-configs", "h100-sxm.yaml")
    for line in open(a.file):
        r = json.loads(line)
        if r["mode"] != "g" or not r.get("causal"):
            continue
        trace = load_trace(os.path.join(os.path.dirname(a.file), r["trace_file"]))
        starts, marks = r["tile_start_ns"], trace["t"]
        x = [tile_steps(r, t) for t in range(len(starts))]
        y = [(marks[t][-1] - starts[t]) * 1e-9 for t in range(len(starts))]
        mx, my = statistics.mean(x), statistics.mean(y)
        b = sum((u - mx) * (v - my) for u, v in zip(x, y)) / sum((u - mx) ** 2 for u in x)
        fit_a = my - b * mx
        tiles_per_head = r["seq"] // 128
        cv = statistics.median(statistics.pstdev(d) / statistics.mean(d) for m in range(tiles_per_head // 4, tiles_per_head, 16)
                               for d in [[y[h * tiles_per_head + m] for h in range(r["heads"])]])
        reads = sum(x)
        rate = min(1.0, 6e6 / reads)
        gpu = (r["dram_read_bytes"] - r["q_bytes"]) / r["kv_bytes"]
        print("g %dk %d heads causal: tile = %.1f us + %.3f us per step; identical tiles differ by %.1f%% (CV); "
              "GPU K/V reads %.1fx per head" % (r["seq"] // 1024, r["heads"], fit_a * 1e6, b * 1e6, 100 * cv, gpu))
        for sigma in SIGMAS:
            print("   duration spread %4.1f%%: %.1fx" % (100 * sigma, replay_schedule(r, schedule(r, fit_a, b, sigma), tool, hw, rate)),
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())

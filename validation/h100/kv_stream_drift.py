#!/usr/bin/env python3
"""Do identical persistent CTAs keep step over a long K/V stream on the H100? (issue 4)

    python3 validation/h100/kv_stream_drift.py --out DIR        (on the GPU machine: builds and runs
                                                                 microbench/kv_stream_drift.cu, plain
                                                                 and under Nsight Compute)
    python3 validation/h100/kv_stream_drift.py --trace DIR      (on the GPU machine: TRACED kernels
                                                                 with each tile's SM and step times,
                                                                 for kv_stream_replay.py)
    python3 validation/h100/kv_stream_drift.py --summarize FILE  (prints drift and reads per round)
    python3 validation/h100/kv_stream_drift.py --compare FILE [--attnsim build/attnsim]
                                                                (attnsim on the same kernels:
                                                                 microbench/kernels/stream_{p,g}.yaml)

attnsim's CTAs are identical and deterministic, so a persistent kernel's 132 CTAs keep step over a
whole K/V stream and fetch a head's K/V from DRAM about once per round of 132 tiles. cuDNN's
non-causal kernel fetches it about twice per round at 128k (validation/h100/data/probe/long/). Mode
`p` has cuDNN's tile order and pipelining without its arithmetic: if it drifts too, drift is a
property of the GPU, not of cuDNN's code. Mode `g` is shaped like FlashAttention-2 (one CTA per
128-row tile, two per SM, 64-key steps, the block scheduler handing out tiles), whose long non-causal
reads the model overestimates by 24-55%.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys

import standalone

HERE = os.path.dirname(os.path.abspath(__file__))
# (mode, heads, sequence, FMAs per thread per step): 128k and 64k at 4 heads as in the long probes,
# at several paces; 16k at 16 heads, where cuDNN reads 1.10x its compulsory bytes.
# The fifth number (1) adds each tile's Q load and O store; a sixth (1) puts all K before all V
# (separate tensors, a power-of-two apart) instead of each step's K and V side by side; a seventh
# (1) waits for each step's load as FA2 does, an eighth spills that many bytes per thread and step,
# a ninth (1) makes it causal and a tenth picks the order (0 grid, 1 longest first, 2 longest first
# with keys last to first, 3 grid with keys last to first; + 4: tiles from a dynamic counter).
CONFIGS = [("p", 4, 131072, 0, 0), ("p", 4, 131072, 300, 0), ("p", 4, 131072, 800, 0), ("p", 4, 65536, 800, 0),
           ("p", 16, 16384, 800, 0), ("g", 4, 131072, 300, 0), ("g", 4, 131072, 800, 0), ("g", 4, 65536, 800, 0),
           ("g", 16, 16384, 800, 0), ("p", 16, 16384, 800, 1), ("p", 4, 65536, 800, 1), ("p", 4, 131072, 800, 1),
           ("g", 16, 16384, 800, 1), ("g", 4, 65536, 800, 1), ("g", 4, 131072, 800, 1),
           ("p", 16, 16384, 800, 1, 1), ("p", 4, 65536, 800, 1, 1), ("p", 4, 131072, 800, 1, 1),
           ("g", 16, 16384, 800, 1, 1), ("g", 4, 65536, 800, 1, 1), ("g", 4, 131072, 800, 1, 1),
           ("g", 4, 65536, 800, 1, 1, 1, 0), ("g", 4, 131072, 800, 1, 1, 1, 0),
           ("g", 4, 65536, 800, 1, 1, 0, 64), ("g", 4, 131072, 800, 1, 1, 0, 64),
           ("g", 4, 65536, 800, 1, 1, 1, 64), ("g", 4, 131072, 800, 1, 1, 1, 64),
           ("g", 16, 131072, 800, 1, 1, 1, 64),
           ("p", 4, 65536, 800, 1, 1, 0, 0, 1, 0),
           ("p", 4, 65536, 800, 1, 1, 0, 0, 1, 4), ("p", 4, 65536, 800, 1, 1, 0, 0, 1, 5),
           ("p", 4, 65536, 800, 1, 1, 0, 0, 1, 6), ("p", 4, 131072, 800, 1, 1, 0, 0, 1, 4),
           ("p", 4, 131072, 800, 1, 1, 0, 0, 1, 5), ("p", 4, 131072, 800, 1, 1, 0, 0, 1, 6),
           ("g", 4, 65536, 800, 1, 1, 0, 0, 1, 3), ("g", 4, 131072, 800, 1, 1, 0, 0, 1, 3)]
# Kernels whose timeline is recorded (--trace): the model's causal schedule (persistent, dynamic,
# grid order) and the non-causal persistent and FA2-shaped kernels at 64k and 128k, arithmetic- and
# memory-paced.
# `--set bulk`: mode b (bulk copies, as cuDNN loads K/V) at four paces, beside p and g again (the
# first set's memory-paced p and g 128k differed between launches).
TRACED = {"base": [("p", 4, 65536, 800, 1, 1, 0, 0, 1, 4), ("p", 4, 131072, 800, 1, 1, 0, 0, 1, 4),
                   ("p", 4, 65536, 800, 1, 1), ("p", 4, 131072, 800, 1, 1), ("p", 4, 131072, 0, 1, 1),
                   ("g", 4, 65536, 800, 1, 1), ("g", 4, 131072, 800, 1, 1), ("g", 4, 65536, 800, 1, 1, 0, 0, 1, 3)],
          "bulk": [("b", 4, 131072, 0, 1, 1), ("b", 4, 131072, 150, 1, 1), ("b", 4, 131072, 300, 1, 1),
                   ("b", 4, 131072, 800, 1, 1), ("b", 4, 65536, 0, 1, 1), ("b", 16, 16384, 0, 1, 1),
                   ("p", 4, 131072, 0, 1, 1), ("g", 4, 131072, 800, 1, 1), ("p", 4, 65536, 800, 1, 1, 0, 0, 1, 4)],
          # The shapes of the cuDNN validation kernels (16 heads, d = 128) with bulk copies at cuDNN's
          # measured pace (~1.77 us per 128-key step at 32k-128k: 550 FMAs), 128k twice, and 64k causal with
          # the model's schedule (dynamic, grid order).
          "cudnn": [("b", 16, 32768, 550, 1, 1), ("b", 16, 65536, 550, 1, 1), ("b", 16, 131072, 550, 1, 1),
                    ("b", 16, 131072, 550, 1, 1), ("b", 16, 65536, 550, 1, 1, 0, 0, 1, 4)],
          # The shapes of the FA2 validation kernels (16 heads, d = 128) with FA2's grid schedule at its
          # measured pace (~3.2 us per 64-key step with two CTAs per SM: 1150 FMAs), causal with
          # FA2's key order.
          "fa2": [("g", 16, 65536, 1150, 1, 1), ("g", 16, 131072, 1150, 1, 1), ("g", 16, 65536, 1150, 1, 1, 0, 0, 1, 3),
                  ("g", 16, 131072, 1150, 1, 1, 0, 0, 1, 3)],
          # The same with register-spill traffic (FA2 stores ~57 B per thread and step at 16k causal):
          # how much of FA2's extra K/V reads at 128k do spills make?
          "fa2spill": [("g", 16, 65536, 1150, 1, 1, 0, 64), ("g", 16, 131072, 1150, 1, 1, 0, 32),
                       ("g", 16, 131072, 1150, 1, 1, 0, 64)]}
METRICS = ["gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum", "lts__t_sectors_srcunit_ltcfabric.sum"]


def ncu_metrics(exe, cfg, record=None):
    """Nsight Compute counts of the measured (second) launch; with `record`, that launch's own JSON
    line is merged into it (a traced run: its timeline and its bytes then come from one launch)."""
    out = subprocess.run(["ncu", "--clock-control", "none", "--metrics", ",".join(METRICS), "--csv",
                          "--print-units", "base", exe, *map(str, cfg)], capture_output=True, text=True).stdout
    if record is not None:
        record.update(json.loads(next(ln for ln in out.splitlines() if ln.startswith("{"))))
    rows = list(csv.DictReader(ln for ln in out.splitlines() if ln.startswith('"')))
    last = max(int(r["ID"]) for r in rows)
    vals = {r["Metric Name"]: float(r["Metric Value"].replace(",", "")) for r in rows if int(r["ID"]) == last}
    return {"ncu_time_us": vals["gpu__time_duration.sum"] / 1e3, "dram_read_bytes": vals["dram__bytes_read.sum"],
            "dram_write_bytes": vals["dram__bytes_write.sum"],
            "l2_fabric_bytes": 32 * vals["lts__t_sectors_srcunit_ltcfabric.sum"]}


def trace_name(cfg, run=1):
    return "trace_" + "_".join(map(str, cfg)) + ("_run%d" % run if run > 1 else "") + ".json"


def run(out, configs=CONFIGS, traced=False):
    os.makedirs(out, exist_ok=True)
    exe = standalone.build(out, "kv_stream_drift")
    name = "kv_stream_traced.jsonl" if traced else "kv_stream_drift.jsonl"
    with open(os.path.join(out, name), "w") as f:
        for i, cfg in enumerate(configs):
            if traced:  # the timeline of the launch Nsight Compute measured
                name = trace_name(cfg, 1 + configs[:i].count(cfg))
                rec = {"trace_file": name, "timeline": "the launch Nsight Compute measured"}
                full = list(cfg) + [0] * (10 - len(cfg)) + [os.path.join(out, name)]
                rec.update(ncu_metrics(exe, full, rec))
            else:
                rec = json.loads(subprocess.run([exe, *map(str, cfg)], check=True, capture_output=True, text=True).stdout)
                rec.update(ncu_metrics(exe, cfg))
            f.write(json.dumps(rec) + "\n")
            print("ran", cfg, "%.1f ms" % rec["kernel_ms"], flush=True)
    os.remove(exe)
    standalone.write_gpu_info(os.path.join(out, "kv_stream_drift_gpu.txt"))


def summarize(path):
    for line in open(path):
        r = json.loads(line)
        slots, starts = r["slots"], r["tile_start_ns"]
        tiles_per_head = r["seq"] // 128
        steps = r["seq"] // r["step_keys"]
        rounds = len(starts) // slots
        # A tile's duration: the kernel over its rounds (every tile does the same work).
        tile_ns = r["kernel_ms"] * 1e6 / (len(starts) / slots)
        spread = [max(starts[k * slots:(k + 1) * slots]) - min(starts[k * slots:(k + 1) * slots]) for k in range(rounds)]
        # Q is read once; what is left is K/V.
        kv_reads_per_head = (r["dram_read_bytes"] - r.get("q_bytes", 0)) / r["kv_bytes"]
        rounds_per_head = tiles_per_head / slots
        print("%s%s %2d heads %6d keys work %4d: %7.1f ms, %.2f us per step; start spread in a round (of a tile): "
              "first %.2f, median %.2f, last %.2f; K/V from DRAM %.1fx per head = %.2f per round; fabric %.0f MB"
              % (r["mode"], ("+QO" if r.get("qo") else "   ") + ("+S" if r.get("split") else "  ") +
                 ("+E" if r.get("exposed") else "  ") + ("+Sp%d" % r["spill_bytes"] if r.get("spill_bytes") else "     ") +
                 ("+C%d" % r["order"] if r.get("causal") else "    "), r["heads"], r["seq"], r["work"], r["kernel_ms"], tile_ns / steps / 1e3, spread[0] / tile_ns,
                 statistics.median(spread) / tile_ns, spread[-1] / tile_ns, kv_reads_per_head,
                 kv_reads_per_head / rounds_per_head, r["l2_fabric_bytes"] / 1e6))


def attnsim_kv_reads(r, attnsim, match_pace=False):
    """attnsim on one measured configuration: (K/V reads in multiples of the K/V bytes, ms). With
    `match_pace`, the kernel's mma_efficiency is rescaled once so that attnsim's kernel time is the
    measured one (Nsight Compute's), as the kernels' own comments set it for one pace."""
    import re
    import tempfile

    root = os.path.dirname(os.path.dirname(HERE))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as w:
        w.write("name: stream\nbatch: 1\nq_heads: %d\nkv_heads: %d\nhead_dim: 128\nphase: prefill\n"
                "q_len: %d\nkv_len: %d\ndtype: bf16\npattern:\n  name: %s\nseed: 1\n"
                % (r["heads"], r["heads"], r["seq"], r["seq"], "causal" if r.get("causal") else "dense"))
    # Grid order with keys last to first (causal ORDER 3, FA2's) is kernel stream_g_desc.
    desc = "_desc" if r.get("causal") and (r.get("order", 0) & 3) == 3 else ""
    kernel = os.path.join(HERE, "microbench", "kernels", "stream_%s%s.yaml" % (r["mode"], desc))

    def run(kernel_path):
        out = subprocess.run([attnsim, "run", "--hw", "h100-sxm", "-w", w.name, "--kernel", kernel_path, "--no-check",
                              "-q", "--json"], check=True, capture_output=True, text=True, cwd=root).stdout
        m = json.loads(out)
        return (m["traffic"]["hbm"]["read_bytes"] - r["q_bytes"]) / r["kv_bytes"], m["timing"]["latency_s"] * 1e3

    reads, ms = run(kernel)
    if match_pace and r.get("ncu_time_us"):
        text = open(kernel).read()
        eff = float(re.search(r"^mma_efficiency:\s*([0-9.]+)", text, re.M).group(1)) * ms / (r["ncu_time_us"] / 1e3)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as k:
            k.write(re.sub(r"^mma_efficiency:.*$", "mma_efficiency: %.4f" % min(1.0, eff), text, flags=re.M))
        reads, ms = run(k.name)
        os.remove(k.name)
    os.remove(w.name)
    return reads, ms


def compare(path, attnsim):
    """attnsim's DRAM reads for the Q/O configurations (attnsim's kernels always move Q and O)."""
    print("%-44s %10s %10s %14s %14s %7s" % ("kernel", "GPU ms", "attnsim ms", "GPU K/V reads", "attnsim K/V", "error"))
    for line in open(path):
        r = json.loads(line)
        if not r.get("qo") or r["mode"] == "b":
            continue  # attnsim's kernels always move Q and O; mode b has no attnsim kernel yet
        causal = bool(r.get("causal"))
        if causal and (r["mode"], r.get("order")) not in (("p", 4), ("g", 3)):
            continue  # attnsim's schedules: persistent CTAs take tiles in grid order (dynamic), keys
            # first to last; grid CTAs in grid order, keys either way
        model, model_ms = attnsim_kv_reads(r, attnsim)
        gpu = (r["dram_read_bytes"] - r["q_bytes"]) / r["kv_bytes"]
        print("%-44s %10.1f %10.1f %13.2fx %13.2fx %+6.1f%%" % (
            "%s %dk %d heads%s%s%s%s" % (r["mode"], r["seq"] // 1024, r["heads"], ", causal" if causal else "",
                                     ", split" if r.get("split") else "",
                                     ", waits" if r.get("exposed") else "",
                                     ", spills %d B" % r["spill_bytes"] if r.get("spill_bytes") else ""),
            r["kernel_ms"], model_ms, gpu, model, 100 * (model / gpu - 1)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--trace")
    ap.add_argument("--set", default="base", choices=sorted(TRACED))
    ap.add_argument("--summarize")
    ap.add_argument("--compare")
    ap.add_argument("--attnsim", default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "attnsim"))
    a = ap.parse_args()
    if a.summarize:
        summarize(a.summarize)
    elif a.compare:
        compare(a.compare, a.attnsim)
    elif a.out:
        run(a.out)
    elif a.trace:
        run(a.trace, TRACED[a.set], traced=a.set)
    else:
        ap.error("--out DIR, --trace DIR, --summarize FILE or --compare FILE")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Is the L2 model wrong, or the schedule it is given? (issue 4: DRAM bytes of long prefill)

    python3 validation/h100/kv_stream_replay.py [FILE] [--attnsim-dir build]
    python3 validation/h100/kv_stream_replay.py --pace [FILE]   (step time per SM group)
    python3 validation/h100/kv_stream_replay.py --keep TRACE... (also writes timeline_*.txt.gz
                                                                beside those traces: the test suite
                                                                replays them)

FILE (default data/micro/traced/base/kv_stream_traced.jsonl) holds K/V streaming kernels traced on the
H100 by `kv_stream_drift.py --trace`: each tile's SM and the time of every 16th step. For each kernel
this prints three K/V read counts, in multiples of the compulsory K/V bytes:
  * GPU: Nsight Compute's DRAM reads less Q;
  * timeline: attnsim's partitioned L2 (models/gpu/l2_replay.h, the h100-sxm config) replaying the
    *measured* timeline: each tile on its SM's measured partition (data/micro/l2_partition_map.jsonl),
    its steps spread evenly between the recorded checkpoints, each step's load issued one step
    before the step (the kernel's two-stage pipeline);
  * attnsim: the whole model, with its own schedule (microbench/kernels/stream_{p,g,g_desc}.yaml,
    the pace rescaled to the measured kernel time).
Where timeline matches GPU and attnsim does not, the schedule is what the model gets wrong; where
timeline is off too, the cache.

--pace prints, for the persistent non-causal kernels, the median step time of each partition's SMs
and of the SMs more than 10% faster than the median SM (all SMs run identical tiles).
"""
import statistics
import argparse
import gzip
import itertools
import json
import os
import subprocess
import sys
import tempfile

import l2_partition_map
from kv_stream_drift import attnsim_kv_reads

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
QUERY_ROWS, HEAD_BYTES_PER_KEY = 128, 2 * 128 * 2  # K and V rows of d = 128, bf16


def load_trace(path):
    """A traced kernel's timeline ({"every", "tile_sm", "t"}), gzipped or not; "t" holds each tile's
    marks in ns from the first start (stored as a first value and differences when
    "t_encoding" is "deltas", which compresses several times better)."""
    trace = json.load(gzip.open(path + ".gz") if os.path.exists(path + ".gz") else open(path))
    if trace.get("t_encoding") == "deltas":
        trace["t"] = [list(itertools.accumulate(m)) for m in trace["t"]]
        del trace["t_encoding"]
    return trace


def tile_steps(r, t):
    """K/V steps of tile t of a traced kernel (causal: up to its diagonal)."""
    keys = r["step_keys"]
    if not r.get("causal"):
        return r["seq"] // keys
    return ((t % (r["seq"] // QUERY_ROWS) + 1) * QUERY_ROWS + keys - 1) // keys


def write_header(r, out):
    """The timeline's first line: K/V streams (heads), tiles per stream, bytes per tile."""
    out.write("kv %d %d %d\n" % (r["heads"], r["seq"] // r["step_keys"], r["step_keys"] * HEAD_BYTES_PER_KEY))


def replay(tool, hw, path, rate=1.0):
    """attnsim_l2_replay on a timeline file: its JSON result."""
    return json.loads(subprocess.run([tool, hw, path, str(rate)], check=True, capture_output=True, text=True).stdout)


def build_tool(attnsim_dir):
    """Builds attnsim_l2_replay if needed; returns its path."""
    subprocess.run(["cmake", "--build", attnsim_dir, "--target", "attnsim_l2_replay"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(attnsim_dir, "validation", "tools", "attnsim_l2_replay")


def timeline(r, trace, side_of_sm, out):
    """Writes the attnsim_l2_replay timeline of one traced kernel."""
    tiles_per_head = r["seq"] // QUERY_ROWS
    every = trace["every"]
    q_bytes = QUERY_ROWS * HEAD_BYTES_PER_KEY // 2
    write_header(r, out)
    for t, (marks, sm) in enumerate(zip(trace["t"], trace["tile_sm"])):
        side = side_of_sm[sm]
        head = t // tiles_per_head
        n = tile_steps(r, t)
        descending = r.get("causal") and (r.get("order", 0) & 3) >= 2
        start = r["tile_start_ns"][t] * 1e-9
        if r.get("qo"):
            out.write("f %.9e %d 0 %d\n" % (start, q_bytes, side))
        # Checkpoint k is step k * every landing; the step's load went out one step earlier.
        for k in range(len(marks) - 1):
            first, count = k * every, min(every, n - k * every)
            step_s = (marks[k + 1] - marks[k]) * 1e-9 / count
            t0 = marks[k] * 1e-9 - (step_s if k else min(step_s, marks[0] * 1e-9 - start))
            t1 = t0 + count * step_s
            block = n - first - count if descending else first  # the chunk's lowest tile
            out.write("c %.9e %.9e %d %d %d %d%s\n" % (t0, t1, head, side, block, count, " 1" if descending else ""))
        if r.get("qo"):
            out.write("f %.9e %d 1 %d\n" % (marks[-1] * 1e-9, q_bytes, side))


def pace(path, side_of_sm):
    for line in open(path):
        r = json.loads(line)
        if r["mode"] == "g" or r.get("causal"):
            continue
        trace = load_trace(os.path.join(os.path.dirname(path), r["trace_file"]))
        per_sm = {}  # SM -> median step time (us) over its tiles, leaving out each CTA's first and last
        for sm in set(trace["tile_sm"]):
            tiles = [m for m, s in zip(trace["t"], trace["tile_sm"]) if s == sm][1:-1] or \
                [m for m, s in zip(trace["t"], trace["tile_sm"]) if s == sm]
            per_sm[sm] = statistics.median((m[-1] - m[0]) / 1e3 / (trace["every"] * (len(m) - 1)) for m in tiles)
        mid = statistics.median(per_sm.values())
        fast = sorted(sm for sm, x in per_sm.items() if x < 0.9 * mid)
        groups = {"side %d" % side: [x for sm, x in per_sm.items() if side_of_sm[sm] == side and sm not in fast]
                  for side in (0, 1)}
        groups["fast"] = [per_sm[sm] for sm in fast]
        print("%s %dk %d heads work %d: median step %s; fast SMs %s" % (
            r["mode"], r["seq"] // 1024, r["heads"], r["work"],
            ", ".join("%s %.2f us (%d SMs)" % (k, statistics.median(v), len(v)) for k, v in groups.items() if v), fast))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=os.path.join(HERE, "data", "micro", "traced", "base", "kv_stream_traced.jsonl"))
    ap.add_argument("--attnsim-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--pace", action="store_true")
    ap.add_argument("--keep", nargs="*", default=[], help="trace files whose timeline to keep")
    a = ap.parse_args()
    rows, _ = l2_partition_map.read(os.path.join(HERE, "data", "micro", "l2_partition_map.jsonl"))
    side_of_sm = l2_partition_map.sm_sides(rows)
    if a.pace:
        return pace(a.file, side_of_sm)
    tool = build_tool(a.attnsim_dir)
    hw = os.path.join(ROOT, "hw-configs", "h100-sxm.yaml")
    print("%-40s %8s %10s %10s %10s" % ("kernel (K/V reads per head)", "ncu ms", "GPU", "timeline", "attnsim"))
    for line in open(a.file):
        r = json.loads(line)
        trace = load_trace(os.path.join(os.path.dirname(a.file), r["trace_file"]))
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            timeline(r, trace, side_of_sm, f)
        rep = replay(tool, hw, f.name)
        if r["trace_file"] in a.keep:
            kept = os.path.join(os.path.dirname(a.file),
                                r["trace_file"].replace("trace_", "timeline_", 1).replace(".json", ".txt.gz"))
            with open(f.name, "rb") as src, gzip.GzipFile(kept, "wb", 9, mtime=0) as dst:
                dst.write(src.read())
        os.remove(f.name)
        gpu = (r["dram_read_bytes"] - r["q_bytes"]) / r["kv_bytes"]
        replayed = rep["kv_miss_bytes"] / r["kv_bytes"]
        # attnsim has kernels for modes p and g only (microbench/kernels/); its persistent CTAs take
        # causal tiles in grid order, keys first to last (ORDER 4), its grid CTAs in grid order with
        # keys either way (ORDER 0 or 3).
        kernel_ok = r["mode"] in ("p", "g") and (not r.get("causal") or
                                                 (r["mode"], r.get("order")) in (("p", 4), ("g", 3)))
        model = ("%9.2fx" % attnsim_kv_reads(r, os.path.join(a.attnsim_dir, "attnsim"), match_pace=True)[0]
                 if kernel_ok else "%10s" % "-")
        name = "%s %dk %d heads work %d%s" % (r["mode"], r["seq"] // 1024, r["heads"], r["work"],
                                              ", causal order %d" % r["order"] if r.get("causal") else "")
        print("%-40s %8.1f %9.2fx %9.2fx %s" % (name, r.get("ncu_time_us", 0) / 1e3, gpu, replayed, model), flush=True)


if __name__ == "__main__":
    sys.exit(main())

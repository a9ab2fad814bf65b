#!/usr/bin/env python3
"""Per-call times of single-copy decode cases (attnsim issue 4).

decode.jsonl times cases whose KV cache is too large to rotate copies (`kv_copies` 1) as
back-to-back CUDA-graph replays, and keeps p20/p50/p80 only; for some of them the median sits
3-17% above the 20th percentile. This records every call's time, in the same way (graph of one
SDPA call, replayed back to back, an event pair around each replay), so the distribution and
its order in time can be seen, with the SM clock NVML reports before and after.

    python3 validation/h100/decode_spread.py --out DIR     -> DIR/decode_spread.jsonl
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import measure  # noqa: E402

SHAPES = [("mha", 32768, 1), ("mha", 65536, 1), ("gqa", 131072, 1), ("mha", 16384, 8), ("gqa", 32768, 8)]
CALLS = 300


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "decode_spread.jsonl"), "w") as f:
        for mode, s, b in SHAPES:
            qs, ks, vs = measure.decode_inputs(mode, s, b, 1)
            fn = measure.sdpa_call("fa2", qs[0], ks[0], vs[0], False, gqa=(mode == "gqa"))
            g = measure.graph_of([fn])
            for _ in range(20):
                g.replay()
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(CALLS)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(CALLS)]
            clk0 = measure.read_clock_power()
            torch.cuda.synchronize()
            for i in range(CALLS):
                starts[i].record()
                g.replay()
                ends[i].record()
            torch.cuda.synchronize()
            clk1 = measure.read_clock_power()
            ts = [round(1000.0 * x.elapsed_time(y), 3) for x, y in zip(starts, ends)]
            rec = {"case_id": measure.decode_case_id("fa2", mode, s, b), "gpu": torch.cuda.get_device_name(),
                   "calls": CALLS, "time_us_each": ts, "clock_power_before": clk0, "clock_power_after": clk1}
            srt = sorted(ts)
            print(rec["case_id"], "p5 %.1f p20 %.1f p50 %.1f p80 %.1f p95 %.1f" % tuple(
                srt[int(q * (CALLS - 1))] for q in (0.05, 0.2, 0.5, 0.8, 0.95)), flush=True)
            f.write(json.dumps(rec) + "\n")
            del qs, ks, vs, fn, g
            measure.free_cuda()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Kernel durations of decode-sized GEMMs with a cold L2 (attnsim issue 7).

gemm_small_m.jsonl times F.linear with CUDA events around each call (L2 flushed before each),
and names its kernels from warm profiled calls. The event times carry 5-7 us more than the HBM
stream even for large weights, and the warm kernel durations are too short; this profiles each
GEMM's kernels with the L2 flushed (a 256 MiB read) before every call, so the kernel durations
are those of a cold call without the event overhead.

    python3 validation/h100/gemm_cold_profile.py --out DIR   -> DIR/gemm_cold_profile.jsonl
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import measure  # noqa: E402
from decode_kernels import LINEAR_SHAPES  # noqa: E402

CALLS = 10


def cold_kernels(fn, flush):
    """Per call, the kernels `fn` launched (the flush's reduction dropped), from one profile."""
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(CALLS):
            flush()
            torch.cuda.synchronize()
            torch.cuda._sleep(100000)  # a spin kernel marks where the call starts
            fn()
            torch.cuda.synchronize()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as f:
            ev = sorted((e for e in json.load(f)["traceEvents"] if e.get("cat") == "kernel"), key=lambda e: e["ts"])
    calls, cur, on = [], [], False
    for e in ev:
        if "spin_kernel" in e["name"]:
            if cur:
                calls.append(cur)
            cur, on = [], True
        elif on and "reduce_kernel" in e["name"] and "splitK" not in e["name"]:
            if cur:
                calls.append(cur)
            cur, on = [], False  # the next flush
        elif on:
            cur.append(e)
    if cur:
        calls.append(cur)
    return calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    flush_buf = torch.randn(64 * measure.MIB, device="cuda", dtype=torch.float32)
    flush = lambda: flush_buf.sum()  # noqa: E731
    with open(os.path.join(a.out, "gemm_cold_profile.jsonl"), "w") as f:
        for tag, n, k in LINEAR_SHAPES:
            for m in (1, 8, 32, 64, 128, 256):
                x = torch.randn(m, k, device="cuda", dtype=measure.DTYPE)
                w = torch.randn(n, k, device="cuda", dtype=measure.DTYPE)
                fn = lambda: F.linear(x, w)  # noqa: E731
                fn()
                calls = cold_kernels(fn, flush)
                sums = [sum(e["dur"] for e in c) for c in calls if c]
                spans = [c[-1]["ts"] + c[-1]["dur"] - c[0]["ts"] for c in calls if c]
                rec = {"case_id": "gemm-linear-%s-m%d-n%d-k%d" % (tag, m, n, k), "gpu": torch.cuda.get_device_name(),
                       "m": m, "n": n, "k": k, "calls": len(sums),
                       "kernels": [{"name": e["name"][:120], "grid": e.get("args", {}).get("grid"), "dur_us": e["dur"]}
                                   for e in calls[-1]] if calls else [],
                       "kernel_sum_us": round(statistics.median(sums), 3) if sums else None,
                       "span_us": round(statistics.median(spans), 3) if spans else None,
                       "weight_bytes": 2 * n * k}
                print(rec["case_id"], rec["kernel_sum_us"], rec["span_us"], flush=True)
                f.write(json.dumps(rec) + "\n")
                del x, w
                measure.free_cuda()


if __name__ == "__main__":
    main()

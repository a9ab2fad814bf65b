#!/usr/bin/env python3
"""Kernel-by-kernel view of one-token decode and of the small-M GEMMs of a decode step.

Two questions the end-to-end timings in decode.jsonl cannot answer (attnsim issues 4 and 7):

1. FlashAttention-2 decode through PyTorch's FLASH_ATTENTION backend launches up to three
   kernels per call (split-KV attention, split combine, or the one-pass forward kernel).
   Which ones, with which grid, and how long does each take on its own?  The torch profiler
   (CUPTI) records every kernel with its grid; each call reads a different KV copy so the
   cache is cold, as in decode.jsonl.

2. The projections of a decode step are GEMMs with few rows (M = batch).  Which cuBLAS kernel
   runs them (split-K? GEMV?) and how long do they take?  Timed like measure.py's gemm phase
   (median of reps, L2 flushed), with the kernel names from one profiled call.

    python3 validation/h100/decode_kernels.py --out OUT [--smoke]

Writes OUT/decode_kernels.jsonl and OUT/gemm_small_m.jsonl (the measurement format of
docs/measurement-format.md; case ids of the decode cases match decode.jsonl).
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

CALLS = 12  # profiled calls per decode shape (after warm-up), each on its own KV copy


def profile_kernels(fns):
    """Runs each callable once under the profiler; returns one list of kernel events per call."""
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for fn in fns:
            fn()
            torch.cuda.synchronize()  # calls stay apart in time: group kernels by gaps below
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as f:
            events = json.load(f)["traceEvents"]
    ks = sorted((e for e in events if e.get("cat") == "kernel"), key=lambda e: e["ts"])
    calls, cur, last_end = [], [], None
    for e in ks:
        if last_end is not None and e["ts"] - last_end > 50.0:  # synchronize() leaves > 50 us between calls
            calls.append(cur)
            cur = []
        cur.append(e)
        last_end = e["ts"] + e["dur"]
    if cur:
        calls.append(cur)
    return calls


def summarize(calls):
    """Median duration per kernel position over the calls that launched the same kernels."""
    sig = [tuple(e["name"] for e in c) for c in calls]
    common = max(set(sig), key=sig.count)
    same = [c for c, s in zip(calls, sig) if s == common]
    out = []
    for i, name in enumerate(common):
        ev = same[0][i]
        a = ev.get("args", {})
        out.append({
            "name": name[:200],
            "grid": a.get("grid"), "block": a.get("block"),
            "registers_per_thread": a.get("registers per thread"),
            "shared_memory_bytes": a.get("shared memory"),
            "dur_us": round(statistics.median(c[i]["dur"] for c in same), 3),
            "dur_us_min": round(min(c[i]["dur"] for c in same), 3),
        })
    span = [c[-1]["ts"] + c[-1]["dur"] - c[0]["ts"] for c in same]
    return out, round(statistics.median(span), 3), len(same), len(calls)


def decode_shapes(smoke):
    if smoke:
        return [("gqa", 4096, 8)]
    return [(mode, s, b) for mode in ("mha", "gqa") for b in (1, 8, 32)
            for s in (4096, 8192, 16384, 32768, 65536, 131072)
            if 2 * b * (32 if mode == "mha" else 8) * s * 128 * 2 <= 8 * measure.GIB]


def phase_decode_kernels(out_dir, smoke):
    sink = measure.Sink(out_dir, "decode_kernels")
    for mode, s, b in decode_shapes(smoke):
        rec = measure.decode_record("fa2", mode, s, b)
        rec["phase"] = "decode_kernels"
        try:
            cache = rec["kv_cache_bytes"]
            copies = int(max(2, min(CALLS, (1024 * measure.MIB) // cache + 1)))
            qs, ks, vs = measure.decode_inputs(mode, s, b, copies)
            fns = [measure.sdpa_call("fa2", qs[i], ks[i], vs[i], False, gqa=(mode == "gqa")) for i in range(copies)]
            for fn in fns:  # warm-up
                fn()
            order = [fns[i % copies] for i in range(CALLS)]
            kernels, span_us, n_same, n_calls = summarize(profile_kernels(order))
            rec.update({"kernels": kernels, "span_us": span_us, "calls_profiled": n_calls, "calls_same_kernels": n_same,
                        "kv_copies": copies, "timing_method": "torch.profiler (CUPTI kernel records)"})
            rec["time_us"] = round(sum(k["dur_us"] for k in kernels), 3)  # kernels only, no launch gaps
            del qs, ks, vs, fns, order
        except Exception as e:  # noqa: BLE001
            measure.error_record(rec, e)
        measure.free_cuda()
        sink.write(rec)
    sink.close()


# Llama-3-8B's projections (N, K) as F.linear(x[M, K], W[N, K]) runs them.
LINEAR_SHAPES = [("q_o", 4096, 4096), ("k_v", 1024, 4096), ("qkv", 6144, 4096), ("gate_up", 14336, 4096),
                 ("gate_up_fused", 28672, 4096), ("down", 4096, 14336), ("lm_head", 128256, 4096)]


def phase_gemm_small_m(out_dir, smoke):
    sink = measure.Sink(out_dir, "gemm_small_m")
    timer = measure.Timer()
    ms = (8,) if smoke else (1, 8, 32, 64, 128, 256)
    shapes = LINEAR_SHAPES[:1] if smoke else LINEAR_SHAPES
    for tag, n, k in shapes:
        for m in ms:
            case_id = "gemm-linear-%s-m%d-n%d-k%d" % (tag, m, n, k)
            rec = measure.base_record(case_id, "gemm", "cublas_bf16", gemm_batch=1, m=m, n=n, k=k, shape_tag="linear_" + tag,
                                      layout="F.linear: x[m,k] . W[n,k]^T")
            try:
                x = torch.randn(m, k, device="cuda", dtype=measure.DTYPE)
                w = torch.randn(n, k, device="cuda", dtype=measure.DTYPE)
                fn = lambda: F.linear(x, w)  # noqa: E731
                rec.update(timer.run(fn, target_ms=150, min_reps=10, max_reps=200, flush=True))
                measure.add_rates(rec, flops=2 * m * n * k, nbytes=measure.ELEM_BYTES * (m * k + k * n + m * n))
                calls = profile_kernels([fn, fn, fn])
                kernels, _, _, _ = summarize(calls)
                rec["kernels"] = kernels
                del x, w
            except Exception as e:  # noqa: BLE001
                measure.error_record(rec, e)
            measure.free_cuda()
            sink.write(rec)
    sink.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    measure.HW_NAME, measure.HW_MODEL = torch.cuda.get_device_name(), measure.hardware_model(torch.cuda.get_device_name())
    env = measure.collect_env()
    with open(os.path.join(args.out, "decode_kernels_env.json"), "w") as f:
        json.dump(env, f, indent=1)
    phase_decode_kernels(args.out, args.smoke)
    phase_gemm_small_m(args.out, args.smoke)


if __name__ == "__main__":
    main()

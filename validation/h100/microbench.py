#!/usr/bin/env python3
"""attnsim H100 microbenchmarks: the hardware rates the GPU model is built from.

    python3 validation/h100/microbench.py --out DIR [--phase launch,exp_rate,l2_bandwidth,flex_dispatch,mma] [--smoke]

Builds microbench/mb.cu with nvcc (sm_90a) into a shared library, calls it through ctypes, and
appends one JSON line per measurement to DIR/<phase>.jsonl. DIR/env.json gets the environment and
nvidia-smi clocks and power before and after each phase (the same layout as measure.py's env.json).

Phases (file = phase name; `bench` names what a record measures)
  launch         launch: empty-kernel launches back to back, in a CUDA graph, one at a time on an idle GPU;
                 a tiny torch op; device-side kernel durations from the profiler
  exp_rate       exp_rate: ex2.approx.ftz.f32 and ex2.approx.f16x2 throughput per SM per clock
  l2_bandwidth   l2_bandwidth: read and copy rates of buffers that fit in L2, and of 256 MiB (HBM)
  flex_dispatch  flex_dispatch: compiled FlexAttention and SDPA (flash, cuDNN) at tiny sizes, timed four ways
  mma            mma_sync_rate, wgmma_rate, cublas_gemm: tensor-core FLOP per clock per SM

Every record has: bench, case_id, parameters (dict), status, one or more values with the unit in the
field name, sm_clock_mhz (median NVML sample during the timed repetitions), sm_clock_mhz_min, power_w.
Kernels that read clock64() also give clock64_mhz = median per-SM cycle span / median event time, an
independent reading of the SM clock during the run.
"""

import argparse
import ctypes
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure as M  # noqa: E402  (clock sampler, env.json, flex/SDPA helpers)

PHASES = ["launch", "exp_rate", "l2_bandwidth", "flex_dispatch", "mma"]
MIB = 1 << 20
SRC = os.path.join(HERE, "microbench", "mb.cu")

LIB = None
BUILD = {}


# --------------------------------------------------------------------------------------
# build and bindings
# --------------------------------------------------------------------------------------


def find_tool(name):
    p = shutil.which(name)
    if p:
        return p
    for c in ("/usr/local/cuda/bin/" + name,):
        if os.access(c, os.X_OK):
            return c
    return None


def build(out_dir):
    """nvcc the .cu into a shared library (sm_90a with wgmma; sm_90 without it if that fails)."""
    global LIB
    nvcc = find_tool("nvcc")
    if not nvcc:
        raise RuntimeError("nvcc not found")
    bdir = tempfile.mkdtemp(prefix="attnsim_mb_")
    so = os.path.join(bdir, "libmb.so")
    base = [nvcc, "-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", "-Xptxas", "-v", "-o", so, SRC]
    variants = [["-gencode", "arch=compute_90a,code=sm_90a", "-DMB_WGMMA"], ["-gencode", "arch=compute_90,code=sm_90"]]
    log = []
    t0 = time.time()
    for v in variants:
        cmd = base[:1] + v + base[1:]
        r = subprocess.run(cmd, capture_output=True, text=True)
        log.append("$ " + " ".join(cmd) + "\n" + r.stdout + r.stderr)
        if r.returncode == 0:
            BUILD["nvcc_flags"] = v
            break
    else:
        raise RuntimeError("nvcc failed:\n" + "\n".join(log)[-3000:])
    BUILD["build_s"] = round(time.time() - t0, 1)
    BUILD["nvcc_version"] = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    # what the kernels compiled to: count the instructions that matter
    sass = ""
    cuobjdump = find_tool("cuobjdump")
    if cuobjdump:
        sass = subprocess.run([cuobjdump, "-sass", so], capture_output=True, text=True).stdout
        BUILD["sass_counts"] = sass_counts(sass)
    with open(os.path.join(out_dir, "build.txt"), "w") as f:
        f.write("\n".join(log) + "\n\n==== SASS (cuobjdump -sass) ====\n" + sass)
    LIB = ctypes.CDLL(so)
    LIB.mb_error_string.restype = ctypes.c_char_p
    LIB.mb_error_string.argtypes = [ctypes.c_int]
    I, ULL, FP, DP, IP = ctypes.c_int, ctypes.c_ulonglong, ctypes.POINTER(ctypes.c_float), \
        ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_int)
    LIB.mb_device.argtypes = [IP, IP]
    LIB.mb_l2.argtypes = [I, ULL, ULL, I, FP, DP, IP, IP]
    LIB.mb_mma_sync.argtypes = [I, I, I, I, FP, DP, DP, IP]
    LIB.mb_wgmma.argtypes = [I, I, I, I, FP, DP, DP, IP]
    LIB.mb_exp.argtypes = [I, I, I, I, FP, DP, DP, IP, IP]
    LIB.mb_launch.argtypes = [I, I, I, FP, DP]
    LIB.mb_empty.argtypes = [I]
    LIB.mb_has_wgmma.argtypes = []
    print("built %s in %.1f s with %s; SASS: %s" % (so, BUILD["build_s"], " ".join(BUILD["nvcc_flags"]),
                                                  BUILD.get("sass_counts")), flush=True)


def sass_counts(sass):
    """Per kernel, how many HMMA / HGMMA / MUFU.EX2 / LDG / STG instructions its SASS holds."""
    out, cur = {}, None
    keys = ["HMMA", "HGMMA", "MUFU.EX2", "LDG.E.128", "STG.E.128", "FMUL", "FADD", "HADD2"]
    for ln in sass.splitlines():
        s = ln.strip()
        if s.startswith("Function :"):
            cur = s.split(":", 1)[1].strip()
            out[cur] = {k: 0 for k in keys}
            continue
        if cur is None or "/*" not in s:
            continue
        for k in keys:
            if (" " + k) in s:
                out[cur][k] += 1
    return {fn: {k: v for k, v in d.items() if v} for fn, d in out.items()}


def call(fname, *args):
    rc = getattr(LIB, fname)(*args)
    if rc != 0:
        raise RuntimeError("%s: CUDA error %d (%s)" % (fname, rc, LIB.mb_error_string(rc).decode()))


def f_arr(n):
    return (ctypes.c_float * n)()


def d_ref():
    return ctypes.c_double(0.0)


def i_ref():
    return ctypes.c_int(0)


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------


def stats_us(ts_us):
    ts = sorted(ts_us)

    def q(p):
        return ts[min(len(ts) - 1, int(round(p * (len(ts) - 1))))]

    return {"time_us": round(statistics.median(ts), 3), "time_us_p20": round(q(0.2), 3),
            "time_us_p80": round(q(0.8), 3), "time_us_min": round(ts[0], 3), "reps": len(ts)}


def record(bench, case_id, params, **vals):
    rec = {"bench": bench, "case_id": case_id, "hardware": M.HW_NAME, "hardware_model": M.HW_MODEL,
           "parameters": params, "status": "ok"}
    rec.update(vals)
    return rec


class Sink:
    def __init__(self, out_dir, phase):
        self.f = open(os.path.join(out_dir, phase + ".jsonl"), "a")
        self.records = []

    def write(self, rec, show):
        rec["timestamp"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.f.write(json.dumps(rec) + "\n")
        self.f.flush()
        self.records.append(rec)
        print("  %-44s %-6s %s  @%s MHz%s" % (rec["case_id"], rec["status"], show, rec.get("sm_clock_mhz"),
                                             "  (%s)" % rec["reason"][:200] if rec.get("reason") else ""), flush=True)

    def close(self):
        self.f.close()


def sampled(fn):
    """Runs fn() while NVML samples the SM clock and power (ctypes calls release the GIL)."""
    with M.ClockSampler(period_s=0.002) as smp:
        r = fn()
    return r, smp.summary()


def calibrate(run_once, iters0, target_ms):
    """Scale an iteration count so that one launch takes about target_ms (two rounds)."""
    iters = iters0
    for _ in range(2):
        ms = run_once(iters)
        iters = max(1, min(int(iters * target_ms / max(ms, 1e-3)), 2 ** 30))
    return iters


# --------------------------------------------------------------------------------------
# phase: launch
# --------------------------------------------------------------------------------------


def phase_launch(args, sink):
    reps = 5 if args.smoke else 30
    n = 200 if args.smoke else 2000
    for mode, name, per in ((0, "stream_loop", n), (1, "cuda_graph", n), (2, "single_idle", 1)):
        ms = f_arr(reps)
        host = d_ref()
        _, clk = sampled(lambda: call("mb_launch", mode, n, reps, ms, ctypes.byref(host)))
        st = stats_us([1000.0 * ms[i] / per for i in range(reps)])
        rec = record("launch", "launch-empty-" + name,
                     {"kernel": "empty, 1 block of 32 threads", "method": name,
                      "launches_per_rep": per,
                      "note": {"stream_loop": "events around n launches enqueued back to back; time / n",
                               "cuda_graph": "events around one replay of a graph of n empty kernels; time / n",
                               "single_idle": "events around one launch, GPU idle before it (synchronised)"}[name]},
                     us_per_launch=st["time_us"], host_us_per_launch=round(host.value, 3), **st, **clk)
        sink.write(rec, "%.3f us/launch (host %.3f us)" % (st["time_us"], host.value))

    # a tiny torch op, the floor of one eager PyTorch kernel call
    x = torch.zeros(1, device="cuda")
    for _ in range(100):
        x.add_(1.0)
    torch.cuda.synchronize()
    ts, hosts = [], []
    smp = M.ClockSampler(period_s=0.002).__enter__()
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        h0 = time.perf_counter()
        for _ in range(n):
            x.add_(1.0)
        hosts.append((time.perf_counter() - h0) * 1e6 / n)
        e.record()
        torch.cuda.synchronize()
        ts.append(1000.0 * s.elapsed_time(e) / n)
    smp.__exit__(None, None, None)
    st = stats_us(ts)
    st.update(smp.summary())
    rec = record("launch", "launch-torch-add1", {"kernel": "torch x.add_(1.0), 1 element fp32", "method": "stream_loop",
                                                 "launches_per_rep": n},
                 us_per_launch=st["time_us"], host_us_per_launch=round(statistics.median(hosts), 3), **st)
    sink.write(rec, "%.3f us/op (host %.3f us)" % (st["time_us"], statistics.median(hosts)))

    # device-side durations from the profiler (CUPTI)
    try:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            call("mb_empty", 200)
            for _ in range(200):
                x.add_(1.0)
            torch.cuda.synchronize()
        durs = {}
        for evt in prof.events():
            nm = evt.name
            dt = getattr(evt, "device_type", None)
            if dt is None or "CUDA" not in str(dt):
                continue
            key = "empty_kernel" if "empty_kernel" in nm else ("torch_add" if ("add" in nm.lower() or "elementwise" in nm.lower()) else None)
            if key:
                durs.setdefault(key, []).append(evt.time_range.elapsed_us())
        for key, ds in sorted(durs.items()):
            st = stats_us(ds)
            rec = record("launch", "launch-device-duration-" + key,
                         {"kernel": key, "method": "torch.profiler (CUPTI) kernel duration"},
                         device_us=st["time_us"], **st)
            sink.write(rec, "%.3f us on the device (%d kernels)" % (st["time_us"], len(ds)))
        if not durs:
            raise RuntimeError("profiler returned no kernel events: %s" % sorted({e.name for e in prof.events()})[:10])
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        sink.write(record("launch", "launch-device-duration", {}, status="error", reason=repr(e)[:500]), "")


# --------------------------------------------------------------------------------------
# phase: exp_rate
# --------------------------------------------------------------------------------------


def phase_exp(args, sink):
    reps = 5 if args.smoke else 20
    target = 2.0 if args.smoke else 10.0
    for mode, chains, tag in ((0, 8, "f32"), (0, 4, "f32"), (1, 8, "f16x2")):
        ms, rate, span, nsm, grid = f_arr(reps), d_ref(), d_ref(), i_ref(), i_ref()

        def run(iters, r=1):
            call("mb_exp", mode, chains, iters, r, ms, ctypes.byref(rate), ctypes.byref(span), ctypes.byref(nsm),
                 ctypes.byref(grid))
            return statistics.median(ms[i] for i in range(r))

        iters = calibrate(run, 2000, target)
        _, clk = sampled(lambda: run(iters, reps))
        st = stats_us([1000.0 * ms[i] for i in range(reps)])
        sms = nsm.value
        total = grid.value * 256 * chains * iters * (2 if mode == 1 else 1)
        ev_rate = total / (st["time_us"] * 1e-6) / (clk["sm_clock_mhz"] * 1e6) / sms if clk["sm_clock_mhz"] else None
        rec = record("exp_rate", "exp-%s-c%d" % (tag, chains),
                     {"instruction": "ex2.approx.ftz.f32" if mode == 0 else "ex2.approx.f16x2",
                      "chains_per_thread": chains, "threads_per_block": 256, "blocks": grid.value, "sms": sms,
                      "iters": iters, "exps_per_launch": total,
                      "count": "exponentials (2 per f16x2 instruction)"},
                     exp_per_clk_per_sm_clock64=round(rate.value, 3),
                     exp_per_clk_per_sm_nvml=round(ev_rate, 3) if ev_rate else None,
                     clock64_mhz=round(span.value / st["time_us"], 1),
                     **st, **clk)
        sink.write(rec, "%.2f exp/clk/SM (clock64), %.2f (events x NVML clock)" % (rate.value, ev_rate or 0))


# --------------------------------------------------------------------------------------
# phase: l2_bandwidth
# --------------------------------------------------------------------------------------


def phase_l2(args, sink):
    sizes = [4, 48, 256] if args.smoke else [2, 4, 8, 16, 24, 32, 40, 48, 64, 96, 256]
    reps = 5 if args.smoke else 20
    for mode, tag in ((0, "read"), (1, "copy")):
        for mib in sizes:
            # about 1.5-3 ms a launch at L2 rates, 2-4 ms from HBM
            target = (4 if mib <= 96 else 8) * (1 << 30)
            if args.smoke:
                target //= 4
            ms, nbytes, grid, threads = f_arr(reps), d_ref(), i_ref(), i_ref()
            _, clk = sampled(lambda: call("mb_l2", mode, mib * MIB, target, reps, ms, ctypes.byref(nbytes),
                                          ctypes.byref(grid), ctypes.byref(threads)))
            st = stats_us([1000.0 * ms[i] for i in range(reps)])
            gbps = nbytes.value / (st["time_us"] * 1e-6) / 1e9
            rec = record("l2_bandwidth", "l2-%s-%dMiB" % (tag, mib),
                         {"access": tag, "footprint_mib": mib,
                          "buffer_mib": mib if mode == 0 else mib / 2.0,
                          "load": "ld.global.cg 16 B (L2 only), store st.global.cg 16 B" if mode else
                                  "ld.global.cg 16 B (L2 only)",
                          "grid": grid.value, "threads": threads.value, "loads_in_flight_per_thread": 8,
                          "bytes_per_rep": int(nbytes.value),
                          "count": "bytes read" if mode == 0 else "bytes read + bytes written"},
                         gbps=round(gbps, 1),
                         bytes_per_clk_per_sm=round(nbytes.value / (st["time_us"] * 1e-6) /
                                                    (clk["sm_clock_mhz"] * 1e6) / M_SMS, 2) if clk["sm_clock_mhz"] else None,
                         **st, **clk)
            sink.write(rec, "%8.0f GB/s" % gbps)


# --------------------------------------------------------------------------------------
# phase: flex_dispatch
# --------------------------------------------------------------------------------------


def time_four_ways(fn, smoke):
    """do_bench median; back-to-back events (measure.py's Timer, how the flex data was taken);
    host wall per call; CUDA-graph replay per call (device time only)."""
    import triton.testing

    out = {}
    fn()
    torch.cuda.synchronize()
    out["do_bench_us"] = round(1000.0 * triton.testing.do_bench(fn, warmup=25 if not smoke else 5,
                                                                rep=200 if not smoke else 20,
                                                                return_mode="median"), 3)
    r = M.Timer().run(fn, target_ms=100 if not smoke else 20, min_reps=20, max_reps=400, warmup_ms=20)
    out["events_back_to_back_us"] = r["time_us"]
    out["events_back_to_back_us_p20"] = r["time_us_p20"]
    out["events_back_to_back_us_p80"] = r["time_us_p80"]
    out["events_reps"] = r["reps"]
    for k in ("sm_clock_mhz", "sm_clock_mhz_min", "power_w", "clock_samples"):
        out[k] = r[k]
    n = 50 if smoke else 300
    torch.cuda.synchronize()
    h0 = time.perf_counter()
    for _ in range(n):
        fn()
    h1 = time.perf_counter()
    torch.cuda.synchronize()
    h2 = time.perf_counter()
    out["host_us_per_call"] = round((h1 - h0) * 1e6 / n, 3)
    out["wall_us_per_call"] = round((h2 - h0) * 1e6 / n, 3)
    try:
        calls = 20
        g = M.graph_of([fn] * calls)
        g.replay()
        torch.cuda.synchronize()
        ts = []
        for _ in range(5 if smoke else 20):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            g.replay()
            e.record()
            torch.cuda.synchronize()
            ts.append(1000.0 * s.elapsed_time(e) / calls)
        out["graph_us_per_call"] = round(statistics.median(ts), 3)
        del g
    except Exception as e:  # noqa: BLE001
        out["graph_us_per_call"] = None
        out["graph_error"] = repr(e)[:300]
    return out


def phase_flex(args, sink):
    d = 128
    cases = [("flex", 1, 256, "diag"), ("fa2", 1, 256, None), ("fa3", 1, 256, None),
             ("fa2", 1, 256, "ctxout"), ("fa3", 1, 256, "ctxout"),
             ("flex", 16, 4096, "rand05"), ("flex", 16, 4096, "dense")]
    if args.smoke:
        cases = cases[:3]
    flex = None
    flex_shape = None
    for kind, h, s, pat in cases:
        cid = "%s-%s-d%d-s%d-b1-h%d" % (kind, pat or "dense", d, s, h)
        params = {"kernel": kind, "batch": 1, "heads": h, "seq_len": s, "head_dim": d, "dtype": "bfloat16",
                  "causal": False}
        cm = None
        try:
            q = torch.randn(1, h, s, d, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(1, h, s, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(1, h, s, d, device="cuda", dtype=torch.bfloat16)
            if kind == "flex":
                nb = s // M.SPARSE_BLOCK
                if pat == "diag":
                    bitmap = torch.eye(nb, dtype=torch.bool)
                    params["pattern"] = "block diagonal: 1 full 128x128 block per query-block row"
                elif pat == "rand05":
                    bitmap = M.block_bitmap({"name": "random_block", "density": 0.05, "seed": 1}, nb)
                    params["pattern"] = "random_block 5 %, seed 1 (as flex-rand05-d128-s4096-b1-h16)"
                else:
                    bitmap = torch.ones(nb, nb, dtype=torch.bool)
                    params["pattern"] = "dense (all blocks full)"
                params["allowed_blocks"] = int(bitmap.sum())
                params["flops"] = 4 * h * d * int(bitmap.sum()) * M.SPARSE_BLOCK ** 2
                if flex_shape != (h, s):
                    flex = M.compiled_flex()
                    flex_shape = (h, s)
                bm = M.block_mask_from_bitmap(bitmap, s)
                fn = (lambda bm_=bm, f_=flex: f_(q, k, v, block_mask=bm_))
            elif pat == "ctxout":
                # the backend chosen once, outside the timed calls: the call without sdpa_kernel()'s own cost
                from torch.nn.attention import sdpa_kernel

                params["backend"] = M.BACKEND_NAMES[kind]
                params["flops"] = 4 * h * d * s * s
                params["note"] = "sdpa_kernel([backend]) entered once around all timing, not per call"
                cm = sdpa_kernel([M.sdpa_backends()[kind]])
                cm.__enter__()
                fn = (lambda: F.scaled_dot_product_attention(q, k, v))
            else:
                params["backend"] = M.BACKEND_NAMES[kind]
                params["flops"] = 4 * h * d * s * s
                params["note"] = "each call enters sdpa_kernel([backend]) (as measure.py's sdpa phase does)"
                fn = M.sdpa_call(kind, q, k, v, False)
            t0 = time.time()
            fn()
            torch.cuda.synchronize()
            params["first_call_s"] = round(time.time() - t0, 2)
            res = time_four_ways(fn, args.smoke)
            rec = record("flex_dispatch", cid, params, **res)
            sink.write(rec, "do_bench %.1f us, events b2b %.1f us, host %.1f us, graph %s us" % (
                res["do_bench_us"], res["events_back_to_back_us"], res["host_us_per_call"], res["graph_us_per_call"]))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            sink.write(record("flex_dispatch", cid, params, status="error", reason=repr(e)[:800]), "")
        if cm is not None:
            cm.__exit__(None, None, None)
        M.free_cuda()


# --------------------------------------------------------------------------------------
# phase: mma (mma.sync, cuBLAS, wgmma)
# --------------------------------------------------------------------------------------


def tc_record(bench, cid, params, ms, reps, rate, span, nsm, flops_total, clk):
    st = stats_us([1000.0 * ms[i] for i in range(reps)])
    ev = (flops_total / (st["time_us"] * 1e-6) / (clk["sm_clock_mhz"] * 1e6) / nsm.value
          if clk["sm_clock_mhz"] and nsm.value else None)
    return record(bench, cid, params,
                  flop_per_clk_per_sm_clock64=round(rate.value, 1),
                  flop_per_clk_per_sm_nvml=round(ev, 1) if ev else None,
                  tflops=round(flops_total / (st["time_us"] * 1e-6) / 1e12, 2),
                  clock64_mhz=round(span.value / st["time_us"], 1),
                  sm_span_cycles=int(span.value), sms_used=nsm.value, **st, **clk)


def phase_mma(args, sink):
    reps = 5 if args.smoke else 15
    target = 2.0 if args.smoke else 8.0
    configs = [(4, 8, 0), (8, 4, 0), (8, 8, 0)] if args.smoke else \
        [(4, 1, 0), (4, 2, 0), (4, 4, 0), (4, 8, 0), (8, 2, 0), (8, 4, 0), (8, 8, 0), (16, 4, 0), (16, 8, 0),
         (8, 8, 1)]
    for warps, chains, sustained in configs:
        # sustained: 100 launches of 20 ms back to back (2 s), to see the clock under a long tensor-core load
        reps = 100 if sustained else (5 if args.smoke else 15)
        target = 20.0 if sustained else (2.0 if args.smoke else 8.0)
        ms, rate, span, nsm = f_arr(reps), d_ref(), d_ref(), i_ref()

        def run(iters, r=1):
            call("mb_mma_sync", warps, chains, iters, r, ms, ctypes.byref(rate), ctypes.byref(span), ctypes.byref(nsm))
            return statistics.median(ms[i] for i in range(r))

        try:
            iters = calibrate(run, 1000, target)
            _, clk = sampled(lambda: run(iters, reps))
            flops = M_SMS * warps * chains * iters * 4096
            rec = tc_record("mma_sync_rate", "mma-sync-m16n8k16-bf16-w%d-c%d%s" % (warps, chains,
                                                                                 "-sustained2s" if sustained else ""),
                            {"instruction": "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32",
                             "warps_per_sm": warps, "chains_per_warp": chains, "blocks": M_SMS, "iters": iters,
                             "launches": reps, "sustained": bool(sustained),
                             "flop_per_instruction": 4096, "operands": "registers (no memory traffic)"},
                            ms, reps, rate, span, nsm, flops, clk)
            rec["cycles_per_mma_per_warp"] = round(span.value / (iters * chains), 2)
            sink.write(rec, "%.0f FLOP/clk/SM (clock64), %.0f (NVML), %.0f TFLOP/s" % (
                rate.value, rec["flop_per_clk_per_sm_nvml"] or 0, rec["tflops"]))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            sink.write(record("mma_sync_rate", "mma-sync-w%d-c%d" % (warps, chains), {}, status="error",
                              reason=repr(e)[:500]), "")

    # cuBLAS in the same run, for comparison
    timer = M.Timer()
    for n in ([4096] if args.smoke else [4096, 8192]):
        a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        r = timer.run(lambda: torch.matmul(a, b), target_ms=100 if args.smoke else 300, min_reps=5, max_reps=200)
        flops = 2 * n ** 3
        tf = flops / (r["time_us"] * 1e-6) / 1e12
        per = tf * 1e12 / (r["sm_clock_mhz"] * 1e6) / M_SMS if r["sm_clock_mhz"] else None
        rec = record("cublas_gemm", "cublas-bf16-%d" % n, {"m": n, "n": n, "k": n, "call": "torch.matmul bf16",
                                                           "flops": flops},
                     tflops=round(tf, 2), flop_per_clk_per_sm_nvml=round(per, 1) if per else None, **r)
        sink.write(rec, "%.0f TFLOP/s, %.0f FLOP/clk/SM (NVML clock)" % (tf, per or 0))
        del a, b
    del timer
    M.free_cuda()

    if not LIB.mb_has_wgmma():
        sink.write(record("wgmma_rate", "wgmma", {}, status="skipped", reason="built without sm_90a"), "")
        return
    for n, wgs, sustained in ([(256, 1, 0)] if args.smoke else
                              [(128, 1, 0), (128, 2, 0), (256, 1, 0), (256, 2, 0), (256, 2, 1)]):
        reps = 100 if sustained else (5 if args.smoke else 15)
        target = 20.0 if sustained else (2.0 if args.smoke else 8.0)
        ms, rate, span, nsm = f_arr(reps), d_ref(), d_ref(), i_ref()

        def run(iters, r=1):
            call("mb_wgmma", n, wgs, iters, r, ms, ctypes.byref(rate), ctypes.byref(span), ctypes.byref(nsm))
            return statistics.median(ms[i] for i in range(r))

        try:
            iters = calibrate(run, 500, target)
            _, clk = sampled(lambda: run(iters, reps))
            flops = M_SMS * wgs * iters * 4 * 2 * 64 * n * 16
            rec = tc_record("wgmma_rate", "wgmma-m64n%dk16-bf16-wg%d%s" % (n, wgs, "-sustained2s" if sustained else ""),
                            {"instruction": "wgmma.mma_async.sync.aligned.m64n%dk16.f32.bf16.bf16" % n,
                             "warpgroups_per_sm": wgs, "blocks": M_SMS, "iters": iters,
                             "launches": reps, "sustained": bool(sustained),
                             "wgmma_per_commit_group": 4, "groups_in_flight": 1,
                             "flop_per_instruction": 2 * 64 * n * 16,
                             "operands": "A and B in shared memory (no swizzle), accumulators in registers"},
                            ms, reps, rate, span, nsm, flops, clk)
            sink.write(rec, "%.0f FLOP/clk/SM (clock64), %.0f (NVML), %.0f TFLOP/s" % (
                rate.value, rec["flop_per_clk_per_sm_nvml"] or 0, rec["tflops"]))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            sink.write(record("wgmma_rate", "wgmma-m64n%dk16-bf16-wg%d" % (n, wgs), {}, status="error",
                              reason=repr(e)[:500]), "")
            break  # a failed wgmma may leave the context unusable


# --------------------------------------------------------------------------------------


M_SMS = None


def summary(out_dir):
    print("\n==== summary (%s) ====" % out_dir)
    for ph in PHASES:
        p = os.path.join(out_dir, ph + ".jsonl")
        if not os.path.exists(p):
            continue
        with open(p) as f:
            recs = [json.loads(ln) for ln in f if ln.strip()]
        for r in recs:
            vals = {k: v for k, v in r.items() if k in (
                "gbps", "us_per_launch", "host_us_per_launch", "device_us", "exp_per_clk_per_sm_clock64",
                "exp_per_clk_per_sm_nvml", "flop_per_clk_per_sm_clock64", "flop_per_clk_per_sm_nvml", "tflops",
                "do_bench_us", "events_back_to_back_us", "host_us_per_call", "graph_us_per_call", "clock64_mhz")}
            print("%-14s %-40s %-6s %s sm_clock=%s" % (ph, r["case_id"], r["status"], json.dumps(vals),
                                                      r.get("sm_clock_mhz")))


def main():
    global M_SMS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--phase", default=",".join(PHASES))
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    phases = [p.strip() for p in args.phase.split(",") if p.strip()]
    for p in phases:
        if p not in PHASES:
            sys.exit("unknown phase %r (known: %s)" % (p, ", ".join(PHASES)))
    M.HW_NAME = torch.cuda.get_device_name(0)
    M.HW_MODEL = M.hardware_model(M.HW_NAME)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.cuda.init()
    build(args.out)
    sms, l2 = i_ref(), i_ref()
    call("mb_device", ctypes.byref(sms), ctypes.byref(l2))
    M_SMS = sms.value
    env = M.Env(args.out)
    env.run["build"] = BUILD
    env.run["smoke"] = args.smoke
    env.save()
    print("device: %s, %d SMs, L2 %d B, torch %s, driver %s" % (M.HW_NAME, M_SMS, l2.value, torch.__version__,
                                                             env.data["environment"].get("nvidia_smi_driver_version")),
          flush=True)
    fns = {"launch": phase_launch, "exp_rate": phase_exp, "l2_bandwidth": phase_l2, "flex_dispatch": phase_flex,
           "mma": phase_mma}
    for p in phases:
        print("\n== phase %s ==" % p, flush=True)
        entry = env.phase_begin(p)
        sink = Sink(args.out, p)
        t0 = time.time()
        try:
            fns[p](args, sink)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
        env.phase_end(entry, time.time() - t0, len(sink.records))
        sink.close()
    summary(args.out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""attnsim H100 measurement campaign.

One script, several phases; each phase appends JSON lines (one case per line) to
OUT/<phase>.jsonl and records the GPU's clocks and power before and after itself
in OUT/env.json.  The file format is documented in docs/measurement-format.md.

    python3 validation/h100/measure.py --out DIR --phase copy,gemm,sdpa,flex,decode,ncu [--smoke]

Phases
  copy    device-to-device copy and read-only reduction bandwidth
  gemm    bf16 matrix products (square and attention-shaped)
  sdpa    dense prefill through torch SDPA, one backend at a time
  sdpa_short  extra calibration cases: short prefill (S = 256 … 3072), not in the validation grid
  sdpa_headdim  prefill at head dims 32 … 256 (S = 8k, B = 2, 16 heads): the padding to built head dims
  flex    block-sparse prefill through FlexAttention (BlockMask from block tensors)
  decode  one-token decode against a KV cache, CUDA-graph replays
  ncu     Nsight Compute DRAM/L2 byte counts for a handful of the cases above

ncu options (2026-11-28): `--ncu-repeats N` profiles each kernel N times (each launch with the
caches flushed before it); the record's byte counts are then the median over the N launches,
with every launch's counts kept in `*_runs` lists. The rule was fixed before the repeated run:
the DRAM-bytes target of attnsim validate is judged on that median. `--ncu-cases long` adds
FA2 and cuDNN prefill at 32k, 64k and 128k (d = 128, 16 heads, causal and not), where the
K/V footprint outgrows the L2 many times over.
"""

import argparse
import datetime
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import traceback
import warnings

import torch
import torch.nn.functional as F

DTYPE = torch.bfloat16
DTYPE_NAME = "bfloat16"
ELEM_BYTES = 2
SPARSE_BLOCK = 128
MIB = 1 << 20
GIB = 1 << 30
SCHEMA_VERSION = 1

# --------------------------------------------------------------------------------------
# environment and clocks
# --------------------------------------------------------------------------------------

_NVML = None


def nvml_handle():
    """Return an NVML device handle for GPU 0, or None when NVML is unavailable."""
    global _NVML
    if _NVML is None:
        try:
            import pynvml

            pynvml.nvmlInit()
            _NVML = (pynvml, pynvml.nvmlDeviceGetHandleByIndex(0))
        except Exception:  # noqa: BLE001 - NVML is optional
            _NVML = False
    return _NVML or None


def read_clock_power():
    """One sample of (SM clock MHz, power W) via NVML, or (None, None)."""
    h = nvml_handle()
    if not h:
        return None, None
    nv, dev = h
    try:
        clk = nv.nvmlDeviceGetClockInfo(dev, nv.NVML_CLOCK_SM)
        pw = nv.nvmlDeviceGetPowerUsage(dev) / 1000.0
        return clk, pw
    except Exception:  # noqa: BLE001
        return None, None


class ClockSampler:
    """Samples SM clock and board power in a background thread while a timed region runs."""

    def __init__(self, period_s=0.005):
        self.period_s = period_s
        self.samples = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.samples = []
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            c, p = read_clock_power()
            if c is not None:
                self.samples.append((c, p))
            time.sleep(self.period_s)

    def __exit__(self, *exc):
        c, p = read_clock_power()  # at least one sample, taken while the GPU is still hot
        if c is not None:
            self.samples.append((c, p))
        self._stop.set()
        self._thread.join()

    def summary(self):
        if not self.samples:
            return {"sm_clock_mhz": None, "sm_clock_mhz_min": None, "power_w": None, "clock_samples": 0}
        clks = sorted(s[0] for s in self.samples)
        pws = sorted(s[1] for s in self.samples)
        return {
            "sm_clock_mhz": clks[len(clks) // 2],
            "sm_clock_mhz_min": clks[0],
            "power_w": round(pws[len(pws) // 2], 1),
            "clock_samples": len(clks),
        }


def nvidia_smi_query(fields):
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=30,
        )
        if out.returncode != 0:
            return {"error": out.stderr.strip()[:300]}
        vals = [v.strip() for v in out.stdout.strip().splitlines()[0].split(",")]
        return dict(zip(fields, vals))
    except Exception as e:  # noqa: BLE001
        return {"error": repr(e)[:300]}


def gpu_state():
    """Clocks, power and throttle reasons as nvidia-smi reports them now."""
    st = nvidia_smi_query(["clocks.sm", "clocks.mem", "power.draw", "temperature.gpu", "utilization.gpu"])
    reasons = nvidia_smi_query(["clocks_event_reasons.active"])
    if "error" in reasons:
        reasons = nvidia_smi_query(["clocks_throttle_reasons.active"])
    st.update(reasons)
    st["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return st


def hardware_model(name):
    """A short hardware label derived from torch's device name."""
    n = name.upper()
    if "H100" in n:
        if "PCIE" in n:
            return "H100 PCIe"
        if "NVL" in n:
            return "H100 NVL"
        return "H100 SXM"
    if "H200" in n:
        return "H200 SXM" if "NVL" not in n else "H200 NVL"
    if "A100" in n:
        return "A100 PCIe" if "PCIE" in n else "A100 SXM"
    return name


def find_ncu():
    p = shutil.which("ncu")
    if p:
        return p
    for cand in sorted(glob.glob("/usr/local/cuda*/bin/ncu") + glob.glob("/opt/nvidia/nsight-compute/*/ncu")):
        if os.access(cand, os.X_OK):
            return cand
    return None


def collect_env():
    props = torch.cuda.get_device_properties(0)
    env = {
        "schema_version": SCHEMA_VERSION,
        "gpu_name": torch.cuda.get_device_name(0),
        "hardware_model": hardware_model(torch.cuda.get_device_name(0)),
        "compute_capability": "%d.%d" % (props.major, props.minor),
        "sm_count": props.multi_processor_count,
        "l2_cache_bytes": getattr(props, "L2_cache_size", None),
        "total_memory_bytes": props.total_memory,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "python": sys.version.split()[0],
    }
    try:
        import triton

        env["triton"] = triton.__version__
    except Exception:  # noqa: BLE001
        env["triton"] = None
    env.update({"nvidia_smi_" + k.replace(".", "_"): v for k, v in nvidia_smi_query(
        ["name", "driver_version", "memory.total", "clocks.max.sm", "clocks.max.mem", "power.limit",
         "power.max_limit", "pcie.link.gen.max"]).items()})
    ncu = find_ncu()
    env["ncu_path"] = ncu
    if ncu:
        try:
            v = subprocess.run([ncu, "--version"], capture_output=True, text=True, timeout=60).stdout
            env["ncu_version"] = v.strip().splitlines()[-1] if v.strip() else None
        except Exception as e:  # noqa: BLE001
            env["ncu_version"] = "error: %r" % e
    return env


class Env:
    """OUT/env.json: static environment plus per-phase clock/power snapshots (appended across runs)."""

    def __init__(self, out_dir):
        self.path = os.path.join(out_dir, "env.json")
        self.data = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.data = json.load(f)
        self.data.setdefault("runs", [])
        env = collect_env()
        self.data["environment"] = env
        self.run = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "argv": sys.argv[1:], "environment": env, "phases": []}
        self.data["runs"].append(self.run)
        self.save()

    def phase_begin(self, name):
        entry = {"phase": name, "before": gpu_state()}
        self.run["phases"].append(entry)
        self.save()
        return entry

    def phase_end(self, entry, wall_s, n_cases, extra=None):
        entry["after"] = gpu_state()
        entry["wall_s"] = round(wall_s, 1)
        entry["cases"] = n_cases
        if extra:
            entry.update(extra)
        self.save()

    def save(self):
        with open(self.path, "w") as f:
            json.dump(self.data, f, indent=1)


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------

HW_NAME = None
HW_MODEL = None


def base_record(case_id, phase, kernel, **kw):
    rec = {
        "case_id": case_id,
        "hardware": HW_NAME,
        "hardware_model": HW_MODEL,
        "phase": phase,
        "kernel": kernel,
        "batch": None, "q_heads": None, "kv_heads": None, "head_dim": None,
        "q_len": None, "kv_len": None, "dtype": DTYPE_NAME, "causal": None,
        "pattern": None, "mask_file": None,
        "status": "ok",
    }
    rec.update(kw)
    return rec


class Sink:
    """Appends records as JSON lines and flushes after each, so a killed run keeps its data."""

    def __init__(self, out_dir, phase):
        self.path = os.path.join(out_dir, phase + ".jsonl")
        self.f = open(self.path, "a")
        self.records = []

    def write(self, rec):
        rec["timestamp"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.f.write(json.dumps(rec, sort_keys=False) + "\n")
        self.f.flush()
        self.records.append(rec)
        status = rec.get("status")
        t = rec.get("time_us")
        extra = ""
        if rec.get("tflops") is not None:
            extra += " %.1f TFLOP/s" % rec["tflops"]
        if rec.get("gbps") is not None:
            extra += " %.0f GB/s" % rec["gbps"]
        if rec.get("sm_clock_mhz") is not None:
            extra += " @%s MHz" % rec["sm_clock_mhz"]
        print("  %-60s %-8s %s%s%s" % (rec["case_id"], status,
                                      ("%.1f us" % t) if t is not None else "",
                                      extra, ("  (" + str(rec.get("reason"))[:120] + ")") if rec.get("reason") else ""),
              flush=True)

    def close(self):
        self.f.close()


# --------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------


class Timer:
    """Median-of-reps timing with CUDA events.

    flush=True reads a 256 MiB buffer before each rep (a read, so no dirty lines are left in L2
    to be written back during the timed kernel).  Memory-bound cases that need cold data use
    rotation over several input copies instead (copy, decode).
    """

    def __init__(self):
        self.flush_buf = torch.randn(64 * MIB, device="cuda", dtype=torch.float32)  # 256 MiB

    def _flush(self):
        self.flush_buf.sum()

    def run(self, fn, target_ms=250.0, min_reps=5, max_reps=100, warmup_ms=50.0, flush=False,
            calls_per_fn=1):
        fn()  # first call: compile / plan / allocate
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        est = s.elapsed_time(e)
        if est < 20.0:
            s.record()
            for _ in range(3):
                fn()
            e.record()
            torch.cuda.synchronize()
            est = max(s.elapsed_time(e) / 3.0, 1e-4)
        if est > 100.0:
            min_reps = min(min_reps, 3)
        n_warm = int(max(1, min(20, warmup_ms / est)))
        n_rep = int(max(min_reps, min(max_reps, target_ms / est)))
        for _ in range(n_warm):
            fn()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n_rep)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n_rep)]
        torch.cuda.synchronize()
        with ClockSampler() as smp:
            for i in range(n_rep):
                if flush:
                    self._flush()
                starts[i].record()
                fn()
                ends[i].record()
            torch.cuda.synchronize()
        ts = sorted(1000.0 * a.elapsed_time(b) / calls_per_fn for a, b in zip(starts, ends))

        def q(p):
            return ts[min(len(ts) - 1, int(round(p * (len(ts) - 1))))]

        res = {
            "time_us": round(q(0.5), 3), "time_us_p20": round(q(0.2), 3), "time_us_p80": round(q(0.8), 3),
            "time_us_min": round(ts[0], 3), "reps": n_rep, "warmup": n_warm,
        }
        res.update(smp.summary())
        return res


def graph_of(fn_calls, warm=3):
    """Capture a CUDA graph that runs each callable in fn_calls once, in order."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(warm):
            for c in fn_calls:
                c()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for c in fn_calls:
            c()
    torch.cuda.synchronize()
    return g


def add_rates(rec, flops=None, nbytes=None):
    t = rec.get("time_us")
    if flops is not None:
        rec["flops"] = flops
        rec["tflops"] = round(flops / (t * 1e-6) / 1e12, 2) if t else None
    if nbytes is not None:
        rec["bytes_min"] = nbytes
        rec["gbps"] = round(nbytes / (t * 1e-6) / 1e9, 1) if t else None


def free_cuda():
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def error_record(rec, exc, status="error"):
    rec["status"] = status
    msg = "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    rec["reason"] = msg[:1600]
    return rec


# --------------------------------------------------------------------------------------
# phase: copy
# --------------------------------------------------------------------------------------


def phase_copy(args, timer, sink):
    sizes = [64 * MIB, 256 * MIB, 1 * GIB, 2 * GIB] if not args.smoke else [64 * MIB]
    rot_bytes = 1 * GIB  # rotate so that each rep touches buffers not in L2
    for nbytes in sizes:
        n = nbytes // 4
        sets = max(1, min(8, rot_bytes // nbytes))
        for kind in ("d2d_copy", "read_reduce"):
            case_id = "copy-%s-%dMiB" % (kind, nbytes // MIB)
            rec = base_record(case_id, "copy", kind, size_bytes=nbytes, buffer_sets=sets)
            try:
                srcs = [torch.rand(n, device="cuda", dtype=torch.float32) for _ in range(sets)]
                if kind == "d2d_copy":
                    dsts = [torch.empty_like(x) for x in srcs]
                else:
                    dsts = None
                state = {"i": 0}

                def fn():
                    i = state["i"] % sets
                    state["i"] += 1
                    if dsts is not None:
                        dsts[i].copy_(srcs[i])
                    else:
                        torch.sum(srcs[i])

                rec.update(timer.run(fn, target_ms=200, min_reps=10, max_reps=200))
                moved = 2 * nbytes if kind == "d2d_copy" else nbytes
                add_rates(rec, nbytes=moved)
                rec["bytes_convention"] = "read+write" if kind == "d2d_copy" else "read"
                del srcs, dsts
            except Exception as e:  # noqa: BLE001
                error_record(rec, e)
            free_cuda()
            sink.write(rec)


# --------------------------------------------------------------------------------------
# phase: gemm
# --------------------------------------------------------------------------------------


def gemm_shapes(smoke):
    if smoke:
        return [("square", 1, 4096, 4096, 4096)]
    shapes = [("square", 1, s, s, s) for s in (1024, 2048, 4096, 8192, 16384)]
    # attention-like: QK^T (S x S x d), PV (S x d x S), batched over heads
    shapes += [
        ("qk", 1, 16384, 16384, 128), ("pv", 1, 16384, 128, 16384),
        ("qk", 1, 16384, 16384, 64), ("pv", 1, 16384, 64, 16384),
        ("bqk", 16, 4096, 4096, 128), ("bpv", 16, 4096, 128, 4096),
        ("proj", 1, 16384, 4096, 4096), ("proj", 1, 16384, 12288, 4096),
        ("skinny", 1, 64, 8192, 8192), ("skinny", 1, 8, 8192, 8192),
    ]
    return shapes


def phase_gemm(args, timer, sink):
    for tag, b, m, n, k in gemm_shapes(args.smoke):
        case_id = "gemm-%s-b%d-m%d-n%d-k%d" % (tag, b, m, n, k)
        rec = base_record(case_id, "gemm", "cublas_bf16", gemm_batch=b, m=m, n=n, k=k, shape_tag=tag)
        try:
            if b == 1:
                a = torch.randn(m, k, device="cuda", dtype=DTYPE)
                bb = torch.randn(k, n, device="cuda", dtype=DTYPE)
                fn = lambda: torch.matmul(a, bb)  # noqa: E731
            else:
                a = torch.randn(b, m, k, device="cuda", dtype=DTYPE)
                bb = torch.randn(b, k, n, device="cuda", dtype=DTYPE)
                fn = lambda: torch.bmm(a, bb)  # noqa: E731
            rec.update(timer.run(fn, target_ms=250, min_reps=10, max_reps=200, flush=True))
            add_rates(rec, flops=2 * b * m * n * k, nbytes=ELEM_BYTES * b * (m * k + k * n + m * n))
            del a, bb
        except Exception as e:  # noqa: BLE001
            error_record(rec, e)
        free_cuda()
        sink.write(rec)


# --------------------------------------------------------------------------------------
# SDPA helpers (prefill and decode)
# --------------------------------------------------------------------------------------


def sdpa_backends():
    from torch.nn.attention import SDPBackend

    return {
        "fa2": SDPBackend.FLASH_ATTENTION,
        "fa3": SDPBackend.CUDNN_ATTENTION,
        "mem_efficient": SDPBackend.EFFICIENT_ATTENTION,
    }


BACKEND_NAMES = {"fa2": "FLASH_ATTENTION", "fa3": "CUDNN_ATTENTION", "mem_efficient": "EFFICIENT_ATTENTION"}


def sdpa_call(label, q, k, v, causal, gqa=False):
    from torch.nn.attention import sdpa_kernel

    be = sdpa_backends()[label]

    def fn():
        with sdpa_kernel([be]):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)

    return fn


def causal_pairs(s):
    return s * (s + 1) // 2


def prefill_batch(s):
    return max(1, 16384 // s)


def make_sdpa_case(label, d, s, causal, b=None, h=None):
    """Returns (record, fn); fn is None when inputs could not be built."""
    h = h or (16 if d == 128 else 32)
    b = b or prefill_batch(s)
    case_id = "sdpa-%s-d%d-s%d-b%d-h%d-%s" % (label, d, s, b, h, "causal" if causal else "noncausal")
    pairs = causal_pairs(s) if causal else s * s
    rec = base_record(case_id, "prefill", label, backend=BACKEND_NAMES[label], batch=b, q_heads=h, kv_heads=h,
                      head_dim=d, q_len=s, kv_len=s, causal=causal,
                      pattern={"name": "causal" if causal else "dense"}, allowed_pairs=pairs,
                      flops=4 * b * h * d * pairs, bytes_min=4 * b * h * s * d * ELEM_BYTES)
    q = torch.randn(b, h, s, d, device="cuda", dtype=DTYPE)
    k = torch.randn(b, h, s, d, device="cuda", dtype=DTYPE)
    v = torch.randn(b, h, s, d, device="cuda", dtype=DTYPE)
    return rec, sdpa_call(label, q, k, v, causal)


def try_first_call(fn):
    """Run fn once, capturing the backend's warnings; returns (ok, reason)."""
    with warnings.catch_warnings(record=True) as wl:
        warnings.simplefilter("always")
        try:
            fn()
            torch.cuda.synchronize()
            return True, None
        except torch.OutOfMemoryError as e:
            return False, "OutOfMemoryError: " + str(e).splitlines()[0][:200]
        except Exception as e:  # noqa: BLE001
            why = [str(w.message).strip().replace("\n", " ") for w in wl]
            why = [w for w in why if w]
            msg = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0][:200] if str(e).strip() else "")
            if why:
                msg += " | warnings: " + " || ".join(why)[:1500]
            return False, msg


def sdpa_grid(smoke):
    if smoke:
        return [(lab, 128, 4096, True) for lab in ("fa2", "fa3", "mem_efficient")]
    grid = []
    for lab in ("fa2", "fa3", "mem_efficient"):
        for d in (128, 64):
            for causal in (False, True):
                for s in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072):
                    grid.append((lab, d, s, causal))
    return grid


def sdpa_short_grid(smoke):
    """Extra calibration cases (issue 4): short sequences, where per-tile costs show. None of these
    lengths is in the validation grid, so they can be fitted on without touching it."""
    if smoke:
        return [("fa3", 128, 512, True)]
    return [(lab, d, s, causal) for lab in ("fa3", "fa2") for d in (128, 64) for causal in (False, True)
            for s in (256, 512, 768, 1536, 3072)]


def sdpa_headdim_grid(smoke):
    """Head dims between and beyond the validation grid's 64 and 128 (2026-11-28): a kernel built
    for a set of head dims runs the next larger one, so its time should step, not grow smoothly.
    Fixed batch, heads and length, so that only d changes. Kept apart from the validation data
    (data/headdim/), as a check of the padding rule, which comes from the kernels' sources."""
    if smoke:
        return [("fa2", 80, 8192, False, 2, 16)]
    dims = (32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 160, 192, 256)
    return [(lab, d, 8192, causal, 2, 16) for lab in ("fa2", "fa3", "mem_efficient") for causal in (False, True)
            for d in dims]


def phase_sdpa(args, timer, sink, grid=None):
    for lab, d, s, causal, *bh in grid if grid is not None else sdpa_grid(args.smoke):
        rec, fn = None, None
        try:
            rec, fn = make_sdpa_case(lab, d, s, causal, *bh)
            ok, why = try_first_call(fn)
            if not ok:
                rec["status"] = "skipped" if "OutOfMemory" not in why else "error"
                rec["reason"] = why
            else:
                big = rec["flops"] > 5e13
                rec.update(timer.run(fn, target_ms=200 if not big else 600, min_reps=5, max_reps=50,
                                     warmup_ms=50 if not big else 1))
                add_rates(rec, flops=rec["flops"], nbytes=rec["bytes_min"])
                plausibility(rec)
        except Exception as e:  # noqa: BLE001
            if rec is None:
                rec = base_record("sdpa-%s-d%d-s%d-%s" % (lab, d, s, causal), "prefill", lab)
            error_record(rec, e)
        fn = None
        free_cuda()
        sink.write(rec)


def plausibility(rec):
    """Flag results that cannot be a working fused attention kernel (e.g. an unfused fallback)."""
    t = rec.get("tflops")
    if t is None:
        return
    if rec["flops"] >= 1e11 and t < 15.0:
        rec["status"] = "rejected"
        rec["reason"] = "implausibly low throughput (%.1f TFLOP/s) - unfused fallback?" % t
    if t > 1000.0:
        rec["status"] = "rejected"
        rec["reason"] = "above the H100 dense bf16 peak (%.1f TFLOP/s)" % t


# --------------------------------------------------------------------------------------
# phase: flex (block-sparse prefill)
# --------------------------------------------------------------------------------------


def pattern_list(smoke):
    if smoke:
        return [{"name": "random_block", "density": 0.10, "seed": 1}]
    return [
        {"name": "dense"},
        {"name": "causal"},
        {"name": "sliding_window", "window_tokens": 1024},
        {"name": "sliding_window", "window_tokens": 4096},
        {"name": "local_global", "radius_tokens": 512, "global_tokens": 256},
        {"name": "bigbird", "window_tokens": 384, "global_tokens": 256, "random_blocks_per_row": 3, "seed": 7},
        {"name": "block_diagonal", "doc_tokens": 2048},
        {"name": "random_block", "density": 0.05, "seed": 1},
        {"name": "random_block", "density": 0.10, "seed": 1},
        {"name": "random_block", "density": 0.25, "seed": 1},
        {"name": "random_block", "density": 0.50, "seed": 1},
    ]


def pattern_tag(p):
    n = p["name"]
    if n == "sliding_window":
        return "sw%d" % p["window_tokens"]
    if n == "local_global":
        return "lg-r%d-g%d" % (p["radius_tokens"], p["global_tokens"])
    if n == "bigbird":
        return "bigbird-w%d-g%d-r%d" % (p["window_tokens"], p["global_tokens"], p["random_blocks_per_row"])
    if n == "block_diagonal":
        return "docs%d" % p["doc_tokens"]
    if n == "random_block":
        return "rand%02d" % int(round(100 * p["density"]))
    return n


def block_bitmap(p, nb, bs=SPARSE_BLOCK):
    """Boolean [nb, nb] (query block, kv block) bitmap of the pattern; all allowed blocks are full blocks."""
    qi = torch.arange(nb).view(-1, 1)
    ki = torch.arange(nb).view(1, -1)
    n = p["name"]
    if n == "dense":
        m = torch.ones(nb, nb, dtype=torch.bool)
    elif n == "causal":
        m = ki <= qi
    elif n == "sliding_window":
        w = p["window_tokens"] // bs
        m = (ki <= qi) & (ki > qi - w)
    elif n == "local_global":
        r = p["radius_tokens"] // bs
        g = p["global_tokens"] // bs
        m = ((qi - ki).abs() <= r) | (qi < g) | (ki < g)
    elif n == "bigbird":
        r = (p["window_tokens"] // bs) // 2  # window of 2r+1 blocks centred on the diagonal
        g = p["global_tokens"] // bs
        m = ((qi - ki).abs() <= r) | (qi < g) | (ki < g)
        gen = torch.Generator().manual_seed(p["seed"] * 1000003 + nb)
        score = torch.rand(nb, nb, generator=gen)
        score[m] = -1.0  # pick random blocks among those not yet allowed
        nr = min(p["random_blocks_per_row"], nb)
        top = torch.topk(score, nr, dim=1).indices
        extra = torch.zeros(nb, nb, dtype=torch.bool)
        extra.scatter_(1, top, True)
        m = m | (extra & (score >= 0))
    elif n == "block_diagonal":
        db = p["doc_tokens"] // bs
        m = (qi // db) == (ki // db)
    elif n == "random_block":
        per_row = max(1, int(round(p["density"] * nb)))
        gen = torch.Generator().manual_seed(p["seed"] * 1000003 + nb)
        score = torch.rand(nb, nb, generator=gen)
        score[torch.arange(nb), torch.arange(nb)] = 2.0  # the diagonal block is always kept (no empty rows)
        top = torch.topk(score, per_row, dim=1).indices
        m = torch.zeros(nb, nb, dtype=torch.bool)
        m.scatter_(1, top, True)
    else:
        raise ValueError("unknown pattern " + n)
    return m


def pattern_causal(p):
    return p["name"] in ("causal", "sliding_window")


def block_mask_from_bitmap(bitmap, s):
    """BlockMask [1,1,nb,nb] holding every allowed block as a full block (no mask_mod, no partial blocks)."""
    from torch.nn.attention.flex_attention import BlockMask

    nb = bitmap.shape[0]
    dense = bitmap.view(1, 1, nb, nb).cuda()
    counts = dense.sum(-1, dtype=torch.int32)
    order = torch.sort(dense.to(torch.int8), dim=-1, descending=True, stable=True).indices.to(torch.int32)
    col = torch.arange(nb, device="cuda", dtype=torch.int32).view(1, 1, 1, nb)
    full_idx = torch.where(col < counts.unsqueeze(-1), order, torch.zeros_like(order)).contiguous()
    zero_cnt = torch.zeros_like(counts)
    zero_idx = torch.zeros_like(full_idx)
    return BlockMask.from_kv_blocks(zero_cnt, zero_idx, counts, full_idx, BLOCK_SIZE=SPARSE_BLOCK,
                                    mask_mod=None, seq_lengths=(s, s))


def save_block_mask(bm, path):
    import numpy as np

    bs = bm.BLOCK_SIZE
    if isinstance(bs, int):
        bs = (bs, bs)
    seq = getattr(bm, "seq_lengths", None)
    np.savez_compressed(
        path,
        kv_num_blocks=bm.kv_num_blocks.cpu().numpy().astype(np.int32),
        kv_indices=bm.kv_indices.cpu().numpy().astype(np.int32),
        full_kv_num_blocks=bm.full_kv_num_blocks.cpu().numpy().astype(np.int32),
        full_kv_indices=bm.full_kv_indices.cpu().numpy().astype(np.int32),
        block_size=np.array([int(bs[0]), int(bs[1])], dtype=np.int32),
        seq_lengths=np.array([int(seq[0]), int(seq[1])], dtype=np.int64),
    )


def flex_reference_check(q, k, v, bitmap, out):
    """Relative error of the flex output against SDPA with the equivalent token-level boolean mask."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    tok = bitmap.repeat_interleave(SPARSE_BLOCK, 0).repeat_interleave(SPARSE_BLOCK, 1).cuda()
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]):
        ref = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), attn_mask=tok.view(1, 1, *tok.shape))
    err = (out.float() - ref).norm() / ref.norm()
    return float(err)


def flex_case_id(p, s, h=16, d=128):
    return "flex-%s-d%d-s%d-b1-h%d" % (pattern_tag(p), d, s, h)


def flex_record(p, s, bitmap, h=16, d=128):
    cid = flex_case_id(p, s, h, d)
    nblocks = int(bitmap.sum())
    pairs = nblocks * SPARSE_BLOCK * SPARSE_BLOCK
    pat = dict(p)
    pat["block_size"] = SPARSE_BLOCK
    pat["causal"] = pattern_causal(p)
    pat["allowed_blocks"] = nblocks
    pat["total_blocks"] = bitmap.numel()
    pat["block_density"] = round(nblocks / bitmap.numel(), 6)
    return base_record(cid, "prefill", "flex", backend="flex_attention", batch=1, q_heads=h, kv_heads=h,
                       head_dim=d, q_len=s, kv_len=s, causal=pattern_causal(p), pattern=pat,
                       mask_file="validation/h100/masks/%s.npz" % cid, mask_heads=1, allowed_pairs=pairs,
                       flops=4 * h * d * pairs, bytes_min=4 * h * s * d * ELEM_BYTES)


def compiled_flex():
    import torch._dynamo
    from torch.nn.attention.flex_attention import flex_attention

    torch._dynamo.config.cache_size_limit = 64
    if hasattr(torch._dynamo.config, "recompile_limit"):
        torch._dynamo.config.recompile_limit = 64
    if hasattr(torch._dynamo.config, "accumulated_recompile_limit"):
        torch._dynamo.config.accumulated_recompile_limit = 512
    if hasattr(torch._dynamo.config, "accumulated_cache_size_limit"):
        torch._dynamo.config.accumulated_cache_size_limit = 512
    torch._dynamo.reset()
    return torch.compile(flex_attention, dynamic=False)


def flex_seq_lens(smoke):
    return [4096] if smoke else [4096, 16384, 65536, 131072]


def phase_flex(args, timer, sink):
    mask_dir = os.path.join(args.out, "masks")
    os.makedirs(mask_dir, exist_ok=True)
    h, d = 16, 128
    for s in flex_seq_lens(args.smoke):
        nb = s // SPARSE_BLOCK
        flex = compiled_flex()  # fresh compile per sequence length (MEASURING.md)
        q = torch.randn(1, h, s, d, device="cuda", dtype=DTYPE)
        k = torch.randn(1, h, s, d, device="cuda", dtype=DTYPE)
        v = torch.randn(1, h, s, d, device="cuda", dtype=DTYPE)
        first = True
        for p in pattern_list(args.smoke):
            rec = None
            try:
                bitmap = block_bitmap(p, nb)
                rec = flex_record(p, s, bitmap, h, d)
                bm = block_mask_from_bitmap(bitmap, s)
                save_block_mask(bm, os.path.join(mask_dir, rec["case_id"] + ".npz"))
                fn = (lambda bm_=bm: flex(q, k, v, block_mask=bm_))
                t0 = time.time()
                out = fn()
                torch.cuda.synchronize()
                rec["first_call_s"] = round(time.time() - t0, 2)
                rec["compiled_here"] = first
                first = False
                if s <= 4096:
                    rec["check_rel_err"] = round(flex_reference_check(q, k, v, bitmap, out), 6)
                del out
                big = rec["flops"] > 5e13
                rec.update(timer.run(fn, target_ms=200 if not big else 600, min_reps=5, max_reps=50,
                                     warmup_ms=50 if not big else 1))
                add_rates(rec, flops=rec["flops"], nbytes=rec["bytes_min"])
                plausibility(rec)
                if rec.get("check_rel_err") is not None and rec["check_rel_err"] > 2e-2:
                    rec["status"] = "rejected"
                    rec["reason"] = "output differs from masked SDPA reference (rel err %.3g)" % rec["check_rel_err"]
            except Exception as e:  # noqa: BLE001
                if rec is None:
                    rec = base_record(flex_case_id(p, s), "prefill", "flex")
                error_record(rec, e)
                traceback.print_exc()
            free_cuda()
            sink.write(rec)
        del q, k, v
        free_cuda()
    tar_path = os.path.join(args.out, "masks.tar.gz")
    with tarfile.open(tar_path, "w:gz") as tf:
        for f in sorted(glob.glob(os.path.join(mask_dir, "*.npz"))):
            tf.add(f, arcname=os.path.join("masks", os.path.basename(f)))
    shutil.rmtree(mask_dir)  # only 8 files come back from the device: keep the tarball


# --------------------------------------------------------------------------------------
# phase: decode
# --------------------------------------------------------------------------------------

DECODE_HQ = 32
DECODE_D = 128
DECODE_CACHE_LIMIT = 48 * GIB


def decode_case_id(label, mode, s, b):
    return "decode-%s-%s-d%d-kv%d-b%d-hq%d" % (label, mode, DECODE_D, s, b, DECODE_HQ)


def decode_record(label, mode, s, b):
    hkv = DECODE_HQ if mode == "mha" else 8
    cache = 2 * b * hkv * s * DECODE_D * ELEM_BYTES
    rec = base_record(decode_case_id(label, mode, s, b), "decode", "decode_" + label, backend=BACKEND_NAMES[label],
                      batch=b, q_heads=DECODE_HQ, kv_heads=hkv, head_dim=DECODE_D, q_len=1, kv_len=s,
                      causal=False, pattern={"name": "dense"}, attention=mode, allowed_pairs=s,
                      flops=4 * b * DECODE_HQ * DECODE_D * s,
                      bytes_min=cache + 2 * b * DECODE_HQ * DECODE_D * ELEM_BYTES, kv_cache_bytes=cache)
    return rec


def decode_inputs(mode, s, b, copies):
    hkv = DECODE_HQ if mode == "mha" else 8
    qs = [torch.randn(b, DECODE_HQ, 1, DECODE_D, device="cuda", dtype=DTYPE) for _ in range(copies)]
    ks = [torch.randn(b, hkv, s, DECODE_D, device="cuda", dtype=DTYPE) for _ in range(copies)]
    vs = [torch.randn(b, hkv, s, DECODE_D, device="cuda", dtype=DTYPE) for _ in range(copies)]
    return qs, ks, vs


def decode_grid(smoke):
    if smoke:
        return [("mha", 4096, 8, ["fa2", "fa3"]), ("gqa", 4096, 8, ["fa2", "fa3", "mem_efficient"])]
    g = []
    for mode in ("mha", "gqa"):
        for s in (4096, 8192, 16384, 32768, 65536, 131072):
            for b in (1, 8, 32, 64):
                g.append((mode, s, b, ["fa2", "fa3", "mem_efficient"]))
    return g


def phase_decode(args, timer, sink):
    for mode, s, b, labels in decode_grid(args.smoke):
        hkv = DECODE_HQ if mode == "mha" else 8
        cache = 2 * b * hkv * s * DECODE_D * ELEM_BYTES
        if cache > DECODE_CACHE_LIMIT:
            for lab in labels:
                rec = decode_record(lab, mode, s, b)
                rec["status"] = "skipped"
                rec["reason"] = "KV cache %.1f GiB exceeds the %d GiB limit used here" % (cache / GIB, DECODE_CACHE_LIMIT // GIB)
                sink.write(rec)
            continue
        copies = int(max(1, min(16, math.ceil(512 * MIB / cache))))
        inner = copies if cache >= 256 * MIB else max(8, copies)
        inner = int(math.ceil(inner / copies) * copies)
        try:
            qs, ks, vs = decode_inputs(mode, s, b, copies)
        except torch.OutOfMemoryError as e:
            for lab in labels:
                sink.write(error_record(decode_record(lab, mode, s, b), e))
            free_cuda()
            continue
        for lab in labels:
            rec = decode_record(lab, mode, s, b)
            rec.update({"kv_copies": copies, "calls_per_graph": inner})
            g = None
            try:
                calls = [sdpa_call(lab, qs[i % copies], ks[i % copies], vs[i % copies], False, gqa=(mode == "gqa"))
                         for i in range(inner)]
                ok, why = try_first_call(calls[0])
                if not ok:
                    rec["status"] = "skipped" if "OutOfMemory" not in why else "error"
                    rec["reason"] = why
                else:
                    try:
                        g = graph_of(calls)
                        rec["timing_method"] = "cuda_graph"
                        rec.update(timer.run(g.replay, target_ms=200, min_reps=10, max_reps=200, calls_per_fn=inner))
                    except Exception as ge:  # noqa: BLE001 - fall back to eager launches
                        rec["timing_method"] = "eager"
                        rec["graph_error"] = str(ge)[:200]
                        g = None
                        free_cuda()

                        def eager(calls=calls):
                            for c in calls:
                                c()

                        rec.update(timer.run(eager, target_ms=200, min_reps=10, max_reps=200, calls_per_fn=inner))
                    add_rates(rec, flops=rec["flops"], nbytes=rec["bytes_min"])
            except Exception as e:  # noqa: BLE001
                error_record(rec, e)
            g = None
            calls = None
            free_cuda()
            sink.write(rec)
        del qs, ks, vs
        free_cuda()


# --------------------------------------------------------------------------------------
# phase: ncu (Nsight Compute byte counts)
# --------------------------------------------------------------------------------------

NCU_METRICS = ["gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum", "lts__t_bytes.sum"]


def ncu_targets(smoke, which="base"):
    t = []
    if smoke:
        t.append(("sdpa", ("fa3", 128, 4096, True)))
        t.append(("decode", ("fa2", "mha", 4096, 8)))
        return t
    for lab in ("fa2", "fa3"):
        for s in (4096, 16384):
            for causal in (False, True):
                t.append(("sdpa", (lab, 128, s, causal)))
    t.append(("flex", ({"name": "random_block", "density": 0.10, "seed": 1}, 16384)))
    t.append(("decode", ("fa2", "mha", 32768, 8)))
    t.append(("decode", ("fa2", "gqa", 32768, 8)))
    t.append(("decode", ("fa3", "mha", 32768, 8)))
    if which == "long":
        for lab in ("fa2", "fa3"):
            for s in (32768, 65536, 131072):
                for causal in (False, True):
                    t.append(("sdpa", (lab, 128, s, causal)))
    return t


def marker():
    torch.cuda.synchronize()
    torch.cuda._sleep(1000)  # launches at::cuda's spin_kernel: a case delimiter in the ncu log
    torch.cuda.synchronize()


def phase_ncu_targets(args):
    """Runs under ncu: each target once for warm-up, then `--ncu-repeats` times, each launch
    between two marker kernels."""
    cases = []
    flex = None
    for kind, params in ncu_targets(args.smoke, args.ncu_cases):
        rec, fn = None, None
        try:
            if kind == "sdpa":
                rec, fn = make_sdpa_case(*params)
            elif kind == "flex":
                p, s = params
                if flex is None:
                    flex = compiled_flex()
                bitmap = block_bitmap(p, s // SPARSE_BLOCK)
                rec = flex_record(p, s, bitmap)
                bm = block_mask_from_bitmap(bitmap, s)
                q = torch.randn(1, 16, s, 128, device="cuda", dtype=DTYPE)
                k = torch.randn(1, 16, s, 128, device="cuda", dtype=DTYPE)
                v = torch.randn(1, 16, s, 128, device="cuda", dtype=DTYPE)
                fn = (lambda q=q, k=k, v=v, bm=bm: flex(q, k, v, block_mask=bm))
            else:
                lab, mode, s, b = params
                rec = decode_record(lab, mode, s, b)
                qs, ks, vs = decode_inputs(mode, s, b, 1)
                fn = sdpa_call(lab, qs[0], ks[0], vs[0], False, gqa=(mode == "gqa"))
            fn()  # warm-up (compilation, plans)
            torch.cuda.synchronize()
            for _ in range(args.ncu_repeats):
                marker()
                fn()
                marker()
            cases.append({"case_id": rec["case_id"], "record": rec, "status": "ran"})
        except Exception as e:  # noqa: BLE001
            cases.append({"case_id": rec["case_id"] if rec else str(params), "record": rec,
                          "status": "error", "reason": repr(e)[:300]})
        fn = None
        free_cuda()
        print("ncu target", cases[-1]["case_id"], cases[-1]["status"], flush=True)
    with open(os.path.join(args.out, "ncu_cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def parse_ncu_csv(path):
    """Returns a list of kernels in launch order: {id, name, metrics{name: (value, unit)}}."""
    import csv

    with open(path, newline="") as f:
        lines = [ln for ln in f if ln.startswith('"')]
    rows = list(csv.DictReader(lines))
    kernels = {}
    for r in rows:
        try:
            kid = int(r["ID"])
        except (KeyError, ValueError):
            continue
        k = kernels.setdefault(kid, {"id": kid, "name": r.get("Kernel Name", ""), "metrics": {},
                                     "grid": r.get("Grid Size"), "block": r.get("Block Size")})
        val = (r.get("Metric Value") or "").replace(",", "")
        try:
            val = float(val)
        except ValueError:
            continue
        k["metrics"][r.get("Metric Name")] = (val, r.get("Metric Unit"))
    return [kernels[i] for i in sorted(kernels)]


UNIT_SCALE = {"byte": 1, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "Tbyte": 1e12, "KB": 1e3, "MB": 1e6, "GB": 1e9,
              "nsecond": 1e-3, "ns": 1e-3, "usecond": 1, "us": 1, "msecond": 1e3, "ms": 1e3, "second": 1e6, "s": 1e6}


def metric_value(m, name, scale_to):
    if name not in m:
        return None
    v, unit = m[name]
    return v * UNIT_SCALE.get(unit or "", 1) if scale_to else v


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def phase_ncu(args, sink):
    ncu = find_ncu()
    raw = os.path.join(args.out, "ncu_raw.csv")
    if ncu is None:
        sink.write(base_record("ncu-unavailable", "ncu", None, status="error", reason="ncu not found"))
        return
    cmd = [ncu, "--clock-control", "none", "--metrics", ",".join(NCU_METRICS), "--csv", "--print-units", "base",
           "--target-processes", "all", "--log-file", raw,
           sys.executable, os.path.abspath(__file__), "--out", args.out, "--phase", "ncu_targets"]
    if args.smoke:
        cmd.append("--smoke")
    cmd += ["--ncu-repeats", str(args.ncu_repeats), "--ncu-cases", args.ncu_cases]
    env = dict(os.environ, TORCHINDUCTOR_COMPILE_THREADS="1")
    print("running:", " ".join(cmd), flush=True)
    t0 = time.time()
    try:
        res = subprocess.run(cmd, env=env, timeout=args.ncu_timeout, capture_output=True, text=True)
        tail = (res.stdout + res.stderr)[-3000:]
        print(tail, flush=True)
        rc = res.returncode
    except subprocess.TimeoutExpired:
        rc, tail = "timeout", ""
    print("ncu finished rc=%s in %.0f s" % (rc, time.time() - t0), flush=True)
    cases_path = os.path.join(args.out, "ncu_cases.json")
    if not os.path.exists(raw) or not os.path.exists(cases_path):
        sink.write(base_record("ncu-failed", "ncu", None, status="error",
                               reason="ncu rc=%s; no log or case list. tail: %s" % (rc, tail[-500:])))
        return
    with open(cases_path) as f:
        cases = json.load(f)
    kernels = parse_ncu_csv(raw)
    # split the launch sequence at marker kernels: [.. M case-kernels M .. M case-kernels M ..]
    groups, cur, inside = [], None, False
    for kern in kernels:
        if "spin_kernel" in kern["name"]:
            if not inside:
                cur, inside = [], True
            else:
                groups.append(cur)
                inside = False
            continue
        if inside:
            cur.append(kern)
    ran = [c for c in cases if c["status"] == "ran"]
    for c in cases:
        rec = dict(c["record"]) if c.get("record") else base_record(c["case_id"], "ncu", None)
        rec["measurement"] = "ncu"
        rec["ncu_settings"] = "--clock-control none, default --cache-control all (caches flushed before each kernel)"
        for key in ("time_us", "tflops", "gbps"):
            rec.pop(key, None)
        if c["status"] != "ran":
            rec.update(status="error", reason=c.get("reason"))
            sink.write(rec)
            continue
        first = ran.index(c) * args.ncu_repeats
        if first + args.ncu_repeats > len(groups):
            rec.update(status="error", reason="no profiled kernels found between markers for this case")
            sink.write(rec)
            continue
        runs, missing, empty = [], False, False
        for ks in groups[first:first + args.ncu_repeats]:
            tot = {"ncu_time_us": 0.0, "dram_read_bytes": 0.0, "dram_write_bytes": 0.0, "l2_bytes": 0.0}
            for kern in ks:
                m = kern["metrics"]
                vals = [metric_value(m, "gpu__time_duration.sum", True), metric_value(m, "dram__bytes_read.sum", True),
                        metric_value(m, "dram__bytes_write.sum", True), metric_value(m, "lts__t_bytes.sum", True)]
                if any(x is None for x in vals):
                    missing = True
                    continue
                tot["ncu_time_us"] += vals[0]
                tot["dram_read_bytes"] += vals[1]
                tot["dram_write_bytes"] += vals[2]
                tot["l2_bytes"] += vals[3]
            empty = empty or not ks
            runs.append(tot)
        ks = groups[first]
        rec["ncu_time_us"] = round(median(r["ncu_time_us"] for r in runs), 3)
        rec["dram_read_bytes"] = int(median(r["dram_read_bytes"] for r in runs))
        rec["dram_write_bytes"] = int(median(r["dram_write_bytes"] for r in runs))
        rec["dram_bytes"] = rec["dram_read_bytes"] + rec["dram_write_bytes"]
        rec["l2_bytes"] = int(median(r["l2_bytes"] for r in runs))
        if args.ncu_repeats > 1:
            rec["ncu_repeats"] = args.ncu_repeats
            rec["ncu_statistic"] = "median over the launches; the *_runs lists hold every launch"
            for key in ("dram_read_bytes", "dram_write_bytes", "l2_bytes"):
                rec[key + "_runs"] = [int(r[key]) for r in runs]
            rec["ncu_time_us_runs"] = [round(r["ncu_time_us"], 3) for r in runs]
        rec["ncu_kernels"] = [{"name": k["name"][:160], "grid": k["grid"], "block": k["block"],
                               "time_us": metric_value(k["metrics"], "gpu__time_duration.sum", True)} for k in ks]
        if missing or empty:
            rec["status"] = "error"
            rec["reason"] = "no kernels between markers" if empty else "metrics missing in ncu output"
        sink.write(rec)


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

PHASES = ["copy", "gemm", "sdpa", "sdpa_short", "sdpa_headdim", "flex", "decode", "ncu"]


def summary(out_dir):
    print("\n==== summary (%s) ====" % out_dir)

    def load(ph):
        p = os.path.join(out_dir, ph + ".jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(ln) for ln in f if ln.strip()]

    recs = load("copy")
    for r in recs:
        if r["status"] == "ok":
            print("copy   %-40s %8.0f GB/s" % (r["case_id"], r["gbps"]))
    recs = [r for r in load("gemm") if r["status"] == "ok"]
    if recs:
        best = max(recs, key=lambda r: r["tflops"])
        print("gemm   peak %.0f TFLOP/s (%s); %d cases" % (best["tflops"], best["case_id"], len(recs)))
    for ph in ("sdpa", "flex"):
        recs = load(ph)
        bad = [r for r in recs if r["status"] != "ok"]
        print("%-6s %d ok, %d not ok" % (ph, len(recs) - len(bad), len(bad)))
        for r in recs:
            if r["status"] == "ok" and (r["q_len"] in (16384,) or ph == "flex" and r["q_len"] == 65536):
                print("       %-52s %9.1f us %6.1f TFLOP/s @%s MHz" % (r["case_id"], r["time_us"], r["tflops"],
                                                                     r.get("sm_clock_mhz")))
    recs = load("decode")
    okr = [r for r in recs if r["status"] == "ok"]
    print("decode %d ok, %d not ok" % (len(okr), len(recs) - len(okr)))
    for r in okr:
        if r["kv_len"] in (32768,) and r["batch"] in (8,):
            print("       %-52s %9.1f us %6.0f GB/s" % (r["case_id"], r["time_us"], r["gbps"]))
    for r in load("ncu"):
        print("ncu    %-52s %s dram %s B l2 %s B t %s us" % (r["case_id"], r["status"], r.get("dram_bytes"),
                                                          r.get("l2_bytes"), r.get("ncu_time_us")))


def main():
    global HW_NAME, HW_MODEL
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--phase", default=",".join(PHASES), help="comma-separated phases: " + ",".join(PHASES))
    ap.add_argument("--smoke", action="store_true", help="one small case per phase")
    ap.add_argument("--ncu-timeout", type=int, default=420, help="seconds allowed for the ncu sub-run")
    ap.add_argument("--ncu-repeats", type=int, default=1, help="profiled launches per ncu kernel; records hold the median")
    ap.add_argument("--ncu-cases", choices=["base", "long"], default="base",
                    help="ncu kernels: the base 12, or those and FA2/cuDNN prefill at 32k-128k")
    args = ap.parse_args()
    if args.ncu_repeats < 1:
        sys.exit("--ncu-repeats must be at least 1")
    os.makedirs(args.out, exist_ok=True)
    HW_NAME = torch.cuda.get_device_name(0)
    HW_MODEL = hardware_model(HW_NAME)
    torch.backends.cuda.matmul.allow_tf32 = False
    phases = [p.strip() for p in args.phase.split(",") if p.strip()]
    if phases == ["ncu_targets"]:
        phase_ncu_targets(args)
        return
    for p in phases:
        if p not in PHASES:
            sys.exit("unknown phase %r (known: %s)" % (p, ", ".join(PHASES)))
    env = Env(args.out)
    print("device: %s, torch %s, cuda %s, triton %s, driver %s" % (
        HW_NAME, torch.__version__, torch.version.cuda, env.data["environment"].get("triton"),
        env.data["environment"].get("nvidia_smi_driver_version")), flush=True)
    timer = Timer()
    for p in phases:
        print("\n== phase %s ==" % p, flush=True)
        entry = env.phase_begin(p)
        sink = Sink(args.out, p)
        t0 = time.time()
        try:
            if p == "copy":
                phase_copy(args, timer, sink)
            elif p == "gemm":
                phase_gemm(args, timer, sink)
            elif p == "sdpa":
                phase_sdpa(args, timer, sink)
            elif p == "sdpa_short":
                phase_sdpa(args, timer, sink, sdpa_short_grid(args.smoke))
            elif p == "sdpa_headdim":
                phase_sdpa(args, timer, sink, sdpa_headdim_grid(args.smoke))
            elif p == "flex":
                phase_flex(args, timer, sink)
            elif p == "decode":
                phase_decode(args, timer, sink)
            elif p == "ncu":
                phase_ncu(args, sink)
        except Exception:  # noqa: BLE001 - keep the other phases going
            traceback.print_exc()
        env.phase_end(entry, time.time() - t0, len(sink.records))
        sink.close()
    summary(args.out)


if __name__ == "__main__":
    main()

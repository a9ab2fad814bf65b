#!/usr/bin/env python3
"""Full-model forward steps of a randomly initialised Llama-style model on one GPU (attnsim issue 7).

A Llama-3-8B-shaped decoder (hidden 4096, 32 query / 8 KV heads, d = 128, FFN 14336, vocabulary
128256, RMSNorm, rotary embeddings) with a few layers, bf16, random weights (nothing downloaded).
Each step is timed as a whole and broken down per operator:

  prefill  batch 1, S tokens, causal SDPA (FLASH_ATTENTION backend, as attnsim's `fa2`); the
           LM head runs on the last token only, as a server does
  decode   batch B, one new token per sequence against a KV cache of L tokens (SDPA over the
           cache, enable_gqa, FLASH_ATTENTION backend); the step is a CUDA graph, timed as replays

Whole-step times: median of device-event-timed repetitions (prefill) or of graph replays (decode).
Per-operator times: kernel time summed per operator (torch.profiler, CUDA activity) over a few
eager steps, divided by the step count; `ops_sum_us` is their sum (less than the step time by the
gaps between kernels). Operators: embed, norm (RMSNorm: input, post-attention, final), qkv_proj,
rope, kv_write (decode: the new K/V into the cache), attention, o_proj, residual (adds), mlp
(gate, up, SiLU x up, down), lm_head.

Calibration/validation split (fixed here, before any fit): prefill S = 1k, 4k, 16k and decode
B = 2, 16 at 4k are calibration cases; prefill S = 2k, 8k, 32k and the other decode cases are
validation cases (field `set`).

    python3 validation/h100/model_step.py --out DIR [--layers 4] [--smoke]
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

import measure  # noqa: E402

MODEL = {"name": "llama3-8b-shape", "hidden": 4096, "q_heads": 32, "kv_heads": 8, "head_dim": 128,
         "ffn": 14336, "vocab": 128256, "rms_eps": 1e-5, "rope_theta": 500000.0}
DT = torch.bfloat16
GQA_NATIVE = True  # set by probe_gqa()


def probe_gqa():
    """Whether the FLASH_ATTENTION backend takes enable_gqa (8 KV heads for 32 query heads)."""
    q = torch.randn(1, 32, 256, 128, device="cuda", dtype=DT)
    kv = torch.randn(1, 8, 256, 128, device="cuda", dtype=DT)
    try:
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            F.scaled_dot_product_attention(q, kv, kv, is_causal=True, enable_gqa=True)
            F.scaled_dot_product_attention(q[:, :, :1], kv, kv, enable_gqa=True)
        return True
    except RuntimeError as e:
        print("flash backend refuses enable_gqa (%s): K/V are expanded" % str(e)[:120], flush=True)
        return False

PREFILL = [(1024, "calibration"), (2048, "validation"), (4096, "calibration"), (8192, "validation"),
           (16384, "calibration"), (32768, "validation")]
DECODE = [(2, 4096, "calibration"), (16, 4096, "calibration"), (1, 4096, "validation"), (8, 4096, "validation"),
          (32, 4096, "validation"), (64, 4096, "validation"), (1, 32768, "validation"), (8, 32768, "validation")]


class Layer:
    def __init__(self, m, gen):
        h, hq, hk, d, f = m["hidden"], m["q_heads"], m["kv_heads"], m["head_dim"], m["ffn"]

        def w(o, i):  # Linear weight [out, in], scaled so activations stay O(1)
            return (torch.randn(o, i, device="cuda", dtype=DT, generator=gen) / math.sqrt(i)).contiguous()

        self.wq, self.wk, self.wv, self.wo = w(hq * d, h), w(hk * d, h), w(hk * d, h), w(h, hq * d)
        self.w_gate, self.w_up, self.w_down = w(f, h), w(f, h), w(h, f)
        self.n_attn = torch.ones(h, device="cuda", dtype=DT)
        self.n_mlp = torch.ones(h, device="cuda", dtype=DT)


class Model:
    def __init__(self, m, layers, seed=0):
        gen = torch.Generator(device="cuda").manual_seed(seed)
        self.m = m
        self.embed = torch.randn(m["vocab"], m["hidden"], device="cuda", dtype=DT, generator=gen) * 0.02
        self.layers = [Layer(m, gen) for _ in range(layers)]
        self.n_final = torch.ones(m["hidden"], device="cuda", dtype=DT)
        self.lm_head = (torch.randn(m["vocab"], m["hidden"], device="cuda", dtype=DT, generator=gen)
                        / math.sqrt(m["hidden"]))
        d = m["head_dim"]
        self.inv_freq = 1.0 / (m["rope_theta"] ** (torch.arange(0, d, 2, device="cuda", dtype=torch.float32) / d))


def op(name):
    return torch.profiler.record_function("op:" + name)


def rms_norm(x, w, eps):
    with op("norm"):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(DT) * w


def rope_tables(model, positions):
    f = torch.outer(positions.float(), model.inv_freq)  # [T, d/2]
    emb = torch.cat([f, f], dim=-1)
    return emb.cos().to(DT), emb.sin().to(DT)


def apply_rope(x, cos, sin):  # x [B, H, T, d]
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rot * sin


def layer_forward(model, L, x, cos, sin, cache=None, pos=None):
    """x [B, T, h]. Prefill: cache None, causal attention over the T tokens. Decode: T = 1,
    cache = (k_cache, v_cache) [B, kv, Lmax, d], the new token at position `pos`."""
    m = model.m
    B, T, _ = x.shape
    hq, hk, d = m["q_heads"], m["kv_heads"], m["head_dim"]
    hn = rms_norm(x, L.n_attn, m["rms_eps"])
    with op("qkv_proj"):
        q = F.linear(hn, L.wq).view(B, T, hq, d).transpose(1, 2)
        k = F.linear(hn, L.wk).view(B, T, hk, d).transpose(1, 2)
        v = F.linear(hn, L.wv).view(B, T, hk, d).transpose(1, 2)
    with op("rope"):
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
    if not GQA_NATIVE:  # this torch's flash backend lacks enable_gqa: expand K/V (recorded)
        k = k.repeat_interleave(hq // hk, dim=1)
        v = v.repeat_interleave(hq // hk, dim=1)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        if cache is None:
            with op("attention"):
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=GQA_NATIVE)
        else:
            kc, vc = cache
            with op("kv_write"):
                kc[:, :, pos:pos + 1].copy_(k)
                vc[:, :, pos:pos + 1].copy_(v)
            with op("attention"):
                kk, vv = kc[:, :, :pos + 1], vc[:, :, :pos + 1]
                if not GQA_NATIVE:
                    kk, vv = kk.repeat_interleave(hq // hk, dim=1), vv.repeat_interleave(hq // hk, dim=1)
                a = F.scaled_dot_product_attention(q, kk, vv, enable_gqa=GQA_NATIVE)
    with op("o_proj"):
        o = F.linear(a.transpose(1, 2).reshape(B, T, hq * d), L.wo)
    with op("residual"):
        x = x + o
    hn = rms_norm(x, L.n_mlp, m["rms_eps"])
    with op("mlp"):
        g = F.linear(hn, L.w_gate)
        u = F.linear(hn, L.w_up)
        y = F.linear(F.silu(g) * u, L.w_down)
    with op("residual"):
        return x + y


def forward(model, tokens, caches=None, pos=None):
    """tokens [B, T]; returns logits of the last position [B, vocab]."""
    B, T = tokens.shape
    with op("embed"):
        x = model.embed[tokens]
    positions = torch.arange(T, device="cuda") if pos is None else torch.full((1,), pos, device="cuda")
    cos, sin = rope_tables(model, positions)
    for i, L in enumerate(model.layers):
        x = layer_forward(model, L, x, cos, sin, None if caches is None else caches[i], pos)
    x = rms_norm(x[:, -1:], model.n_final, model.m["rms_eps"])
    with op("lm_head"):
        return F.linear(x, model.lm_head)


def kernel_us(evt):
    """Device time (us) of the kernels an event and its CPU descendants launched."""
    return sum(k.duration for k in evt.kernels) + sum(kernel_us(c) for c in evt.cpu_children)


def op_breakdown(fn, steps=3):
    """Kernel time (us) per operator label, per step, from torch.profiler; and all kernels' sum."""
    fn()
    torch.cuda.synchronize()
    acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=acts) as prof:
        for _ in range(steps):
            fn()
        torch.cuda.synchronize()
    out, total = {}, 0.0
    for e in prof.events():
        if e.device_type != torch.autograd.DeviceType.CPU or e.cpu_parent is not None:
            continue
        total += kernel_us(e)
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CPU and e.name.startswith("op:"):
            out[e.name[3:]] = out.get(e.name[3:], 0.0) + kernel_us(e)
    out = {k: round(v / steps, 3) for k, v in sorted(out.items())}
    out["other"] = round(max(0.0, total / steps - sum(out.values())), 3)  # e.g. the RoPE tables
    return out, round(total / steps, 3)


def record(case_id, phase, layers, batch, tokens, context, split, timing, ops, kernel_sum):
    m = MODEL
    rec = measure.base_record(case_id, phase, "model_fa2", batch=batch, q_heads=m["q_heads"], kv_heads=m["kv_heads"],
                              head_dim=m["head_dim"], q_len=tokens, kv_len=context, causal=True,
                              pattern={"name": "causal"})
    rec.update({"set": split, "model": dict(m, layers=layers), "attention_backend": "FLASH_ATTENTION",
                "gqa": "native" if GQA_NATIVE else "K/V expanded to the query heads",
                "lm_head_rows": "last token per sequence"})
    rec.update(timing)
    rec["ops_us"] = ops
    rec["ops_sum_us"] = kernel_sum
    return rec


def run_prefill(model, layers, timer, sink, grid):
    for s, split in grid:
        cid = "model-%dl-prefill-s%d-b1" % (layers, s)
        try:
            tokens = torch.randint(0, MODEL["vocab"], (1, s), device="cuda")
            fn = (lambda t=tokens: forward(model, t))
            timing = timer.run(fn, target_ms=400.0, min_reps=5, max_reps=50)
            ops, ksum = op_breakdown(fn)
            sink.write(record(cid, "model_prefill", layers, 1, s, s, split, timing, ops, ksum))
        except Exception as e:  # noqa: BLE001
            sink.write(measure.error_record(measure.base_record(cid, "model_prefill", "model_fa2"), e))
        measure.free_cuda()


def run_decode(model, layers, timer, sink, grid):
    m = MODEL
    for b, ctx, split in grid:
        cid = "model-%dl-decode-b%d-ctx%d" % (layers, b, ctx)
        try:
            caches = [(torch.randn(b, m["kv_heads"], ctx + 1, m["head_dim"], device="cuda", dtype=DT),
                       torch.randn(b, m["kv_heads"], ctx + 1, m["head_dim"], device="cuda", dtype=DT))
                      for _ in range(layers)]
            tokens = torch.randint(0, m["vocab"], (b, 1), device="cuda")
            fn = (lambda: forward(model, tokens, caches, ctx))
            g = measure.graph_of([fn])
            timing = timer.run(g.replay, target_ms=300.0, min_reps=10, max_reps=200)
            timing["timing_method"] = "cuda_graph"
            ops, ksum = op_breakdown(fn)
            sink.write(record(cid, "model_decode", layers, b, 1, ctx + 1, split, timing, ops, ksum))
            del g, caches
        except Exception as e:  # noqa: BLE001
            sink.write(measure.error_record(measure.base_record(cid, "model_decode", "model_fa2"), e))
        measure.free_cuda()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--smoke", action="store_true", help="one short prefill and one decode case")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    measure.HW_NAME = torch.cuda.get_device_name(0)
    measure.HW_MODEL = measure.hardware_model(measure.HW_NAME)
    torch.backends.cuda.matmul.allow_tf32 = False
    global GQA_NATIVE
    GQA_NATIVE = probe_gqa()
    with open(os.path.join(a.out, "model_step_env.json"), "w") as f:
        json.dump(measure.collect_env(), f, indent=1)
    model = Model(MODEL, a.layers)
    timer = measure.Timer()
    sink = measure.Sink(a.out, "model_step")
    t0 = time.time()
    with torch.inference_mode():
        run_prefill(model, a.layers, timer, sink, PREFILL[:1] if a.smoke else PREFILL)
        run_decode(model, a.layers, timer, sink, DECODE[:1] if a.smoke else DECODE)
    sink.close()
    print("model_step: %d records in %.0f s" % (len(sink.records), time.time() - t0), flush=True)


if __name__ == "__main__":
    main()

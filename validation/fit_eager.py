#!/usr/bin/env python3
"""Fits the two constants of attnsim's eager-PyTorch elementwise kernels (`ops: eager`,
models/llm/eager_kernels.cpp) to the calibration records of the H100 full-model steps
(validation/h100/data/model_step/model_step.jsonl), and prints model vs measured kernel time
per operator for every record (docs/capacity-planning.md, "Eager PyTorch").

Each elementwise or reduction kernel that validation/h100/model_step.py launches costs

    t = max(bytes / (B_hbm * elementwise_efficiency), elementwise_floor)

with its bytes read + written from the tensor shapes and dtypes (the kernel list below mirrors
model_step.py line by line; eager_kernels.cpp holds the same list). The profiler's `ops_us`
are kernel durations (no launch gaps), so the fit compares kernel time only. Fitted on the
calibration records' norm, rope, residual, kv_write, embed and other (RoPE tables) kernel
times; the MLP's SiLU/mul are not fitted (`ops_us.mlp` includes its GEMMs).
No dependencies beyond Python 3."""
import json, math, sys

HBM_BPS = 3.35e12  # hw-configs/h100-sxm.yaml
BF16, FP32, I64 = 2, 4, 8
FIT_OPS = ("norm", "rope", "residual", "kv_write", "embed", "other")


def rms_norm(rows, h):  # x.float(), pow(2), mean(-1), + eps, rsqrt, xf * r, .to(bf16), * w
    return [rows * h * (BF16 + FP32), 2 * rows * h * FP32, rows * h * FP32 + rows * FP32, 2 * rows * FP32,
            2 * rows * FP32, 2 * rows * h * FP32 + rows * FP32, rows * h * (FP32 + BF16), 2 * rows * h * BF16 + h * BF16]


def apply_rope(n, t, d):  # n elements of x [B, H, T, d]: -x[.., half:], cat, x * cos, rot * sin, +
    return [n * BF16, 2 * n * BF16, 2 * n * BF16 + t * d * BF16, 2 * n * BF16 + t * d * BF16, 3 * n * BF16]


def rope_tables(t, d):  # arange/full, .float(), outer, cat([f, f]), cos, .to, sin, .to
    return [t * I64, t * (I64 + FP32), t * FP32 + d // 2 * FP32 + t * d // 2 * FP32, 2 * t * d * FP32,
            2 * t * d * FP32, t * d * (FP32 + BF16), 2 * t * d * FP32, t * d * (FP32 + BF16)]


def kernels(r):
    """Elementwise kernels per operator label of model_step.py: {op: [bytes, ...]} for the step."""
    m, b, L = r["model"], r["batch"], r["model"]["layers"]
    h, hq, hk, d, f = m["hidden"], m["q_heads"], m["kv_heads"], m["head_dim"], m["ffn"]
    decode = r["phase"] == "model_decode"
    t = 1 if decode else r["q_len"]
    rows = b * t
    ops = {"embed": [rows * I64 + 2 * rows * h * BF16], "other": rope_tables(t, d),
           "norm": rms_norm(rows, h) * (2 * L) + rms_norm(b, h),
           "rope": (apply_rope(rows * hq * d, t, d) + apply_rope(rows * hk * d, t, d)) * L,
           "residual": [3 * rows * h * BF16] * (2 * L),
           "mlp_elementwise": [2 * rows * f * BF16, 3 * rows * f * BF16] * L}
    if decode:
        ops["kv_write"] = [2 * rows * hk * d * BF16] * (2 * L)
    return ops


def kernel_s(nbytes, eff, floor_s):
    return max(nbytes / (HBM_BPS * eff), floor_s)


def op_s(ks, eff, floor_s):
    return sum(kernel_s(x, eff, floor_s) for x in ks)


def main(path="validation/h100/data/model_step/model_step.jsonl"):
    recs = [json.loads(line) for line in open(path) if line.strip()]
    recs = [r for r in recs if r.get("status") == "ok"]
    pairs = [(kernels(r)[op], r["ops_us"][op] * 1e-6) for r in recs if r["set"] == "calibration"
             for op in FIT_OPS if op in r["ops_us"]]
    best = None
    for e in range(300, 1001, 2):  # efficiency 0.300..1.000
        for fl in range(0, 501, 2):  # floor 0..5.00 us
            err = sum(math.log(op_s(ks, e / 1000, fl * 1e-8) / meas) ** 2 for ks, meas in pairs)
            if best is None or err < best[0]:
                best = (err, e / 1000, fl * 1e-8)
    _, eff, floor_s = best
    print(f"elementwise_efficiency {eff:.3f}  elementwise_floor {floor_s * 1e6:.2f} us  ({len(pairs)} calibration pairs)")
    for r in recs:
        ks = kernels(r)
        row = [f"{'cal' if r['set'] == 'calibration' else 'val'}  {r['case_id']:30s}"]
        for op in FIT_OPS:
            if op in r["ops_us"]:
                mod = op_s(ks[op], eff, floor_s) * 1e6
                row.append(f"{op} {mod:8.1f}/{r['ops_us'][op]:8.1f} {100 * (mod / r['ops_us'][op] - 1):+4.0f}%")
        print("  ".join(row))


if __name__ == "__main__":
    main(*sys.argv[1:])

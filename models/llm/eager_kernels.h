// The elementwise and reduction kernels a plain (eager) PyTorch Llama-style layer launches,
// each with the bytes it reads and writes, as validation/h100/model_step.py writes them
// (docs/capacity-planning.md, "Eager PyTorch"). The step model's `ops: eager` charges each
// kernel `launch + max(bytes / (B_hbm x elementwise_efficiency), elementwise_floor)`;
// `ops: fused` charges one HBM stream per operator instead.
//
// Contract: every function returns one entry per kernel, in launch order, with the bytes
// read + written through HBM (weights and broadcast tables counted once); `eb` is the
// activation dtype's size in bytes, the fp32 intermediates are 4 bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/hw/hw_spec.h"

namespace attnsim {

// [fit] validation/fit_eager.py on the calibration records of
// validation/h100/data/model_step/model_step.jsonl (kernel times per operator).
constexpr double kElementwiseEfficiency = 0.676;  // share of peak HBM bandwidth an eager elementwise kernel reaches
constexpr double kElementwiseFloorS = 1.96e-6;    // shortest elementwise kernel (a few DRAM round trips), launch gap excluded

// RMSNorm over `rows` x `hidden`: x.float(), pow(2), mean(-1), + eps, rsqrt, xf * r, .to(dtype), * weight.
std::vector<double> eager_rms_norm_bytes(double rows, double hidden, double eb);
// RoPE on `elements` of q or k [B, H, T, d] with tables [T, d]: -x[.., d/2:], cat, x * cos, rot * sin, +.
std::vector<double> eager_rope_bytes(double elements, double tokens, double head_dim, double eb);
// The cos/sin tables for `tokens` positions: arange, .float(), outer, cat, cos, .to, sin, .to.
std::vector<double> eager_rope_table_bytes(double tokens, double head_dim, double eb);

// One eager kernel on a GPU: launch + max(bytes / (B_hbm x efficiency), floor). Throws
// attnsim::Error for an architecture without kernel launches (XLA fuses elementwise ops).
double eager_kernel_s(const HwSpec& hw, double bytes);

}  // namespace attnsim

#include "models/tpu/tpu_gemm.h"

#include <algorithm>

#include "models/tpu/tpu_core.h"
#include "models/tpu/tpu_params.h"

namespace attnsim {

TpuGemmEstimate estimate_tpu_gemm(const HwSpec& hw, int64_t m, int64_t n, int64_t k, const TpuGemmOptions& o) {
  if (m < 1 || n < 1 || k < 1) throw Error("GEMM sizes M, N and K must be positive");
  if (o.bm < 1 || o.bn < 1 || o.bk < 1) throw Error("block sizes must be positive");
  if (m % o.bm || n % o.bn || k % o.bk) {
    throw Error("the blocks (" + std::to_string(o.bm) + ", " + std::to_string(o.bn) + ", " + std::to_string(o.bk) +
                ") must divide M, N and K, as Pallas BlockSpecs require");
  }
  const TpuParams& p = hw.params<TpuParams>();
  const auto& rates = hw.matrix_path("mxu").flops_per_clock_per_unit;
  if (!rates.count(o.dtype)) throw Error(hw.name + ": matrix path 'mxu' has no " + dtype_name(o.dtype) + " rate");
  const double eb = dtype_bytes(o.dtype), clk = hw.clock_hz;
  const double scale = rates.at(o.dtype) / (2.0 * p.mxu_rows * p.mxu_cols * p.mxus_per_core);
  TpuGemmEstimate e;
  const int64_t tiles = (m / o.bm) * (n / o.bn), k_steps = k / o.bk;
  e.cores_used = static_cast<int>(std::min<int64_t>(p.cores_per_chip, tiles));
  e.steps_per_core = (tiles + e.cores_used - 1) / e.cores_used * k_steps;
  e.mxu_cycles_per_step = core_gemm_cycles(p, o.bm, o.bn, o.bk, scale);
  e.vpu_cycles_per_step = static_cast<double>(o.bm * o.bn) / hw.vector_flops_per_clock_per_unit;  // acc += dot (f32)
  const double compute_cycles = e.mxu_cycles_per_step + e.vpu_cycles_per_step -
                                o.mxu_vpu_overlap_fraction * std::min(e.mxu_cycles_per_step, e.vpu_cycles_per_step) +
                                o.step_overhead_cycles;
  e.compute_s_per_step = compute_cycles / clk;
  e.hbm_bytes_per_s = hw.dram().bandwidth_bytes_per_s;
  const double dma_rate = e.hbm_bytes_per_s * p.hbm_efficiency / e.cores_used;  // cores share HBM
  const double in_bytes = static_cast<double>(o.bm * o.bk + o.bk * o.bn) * eb;
  const double out_bytes = static_cast<double>(o.bm * o.bn) * eb;
  e.dma_s_per_step = in_bytes / dma_rate;
  const double lat = hw.dram().latency_cycles / clk;
  e.latency_s = p.launch_overhead_s + (e.dma_s_per_step + lat) +
                static_cast<double>(e.steps_per_core) * std::max(e.compute_s_per_step, e.dma_s_per_step) +
                out_bytes / dma_rate + lat;
  e.bound = e.compute_s_per_step >= e.dma_s_per_step ? "compute" : "memory";
  e.flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  e.hbm_bytes = static_cast<double>(tiles * k_steps) * in_bytes + static_cast<double>(m * n) * eb;
  e.peak_flops_per_s = hw.peak_flops("mxu", o.dtype);
  e.compute_bound_s = e.flops / e.peak_flops_per_s;
  e.memory_bound_s = static_cast<double>(m * k + k * n + m * n) * eb / e.hbm_bytes_per_s;
  return e;
}

}  // namespace attnsim

// Closed-form latency of a dense GEMM on a TPU chip, run as a Pallas blocked matmul
// (grid (M/bm, N/bn, K/bk), K innermost, both input blocks DMA'd every step with double
// buffering, an f32 accumulator in VMEM, (i, j) tiles split over the TensorCores). It is
// the steady state of the attention timing model's step recurrence for a GEMM: every
// step costs max(compute, DMA), plus the first step's DMA and the last tile's write-back.
// Used by `attnsim tpu-gemm` for the peak comparison in docs/tpu-model.md.
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/dtype.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

struct TpuGemmOptions {
  int64_t bm = 512, bn = 512, bk = 512;  // Pallas block sizes
  double step_overhead_cycles = 500;      // grid-step bookkeeping (as the attention kernels)
  double mxu_vpu_overlap_fraction = 0.5;  // co-issue of the accumulate with the MXU work
  Dtype dtype = Dtype::bf16;
};

struct TpuGemmEstimate {
  int64_t steps_per_core = 0;
  int cores_used = 0;
  double mxu_cycles_per_step = 0, vpu_cycles_per_step = 0, compute_s_per_step = 0, dma_s_per_step = 0;
  double latency_s = 0;
  double flops = 0, hbm_bytes = 0;
  double peak_flops_per_s = 0, hbm_bytes_per_s = 0;  // configured peaks (HBM without efficiency)
  double compute_bound_s = 0;                        // flops / peak
  double memory_bound_s = 0;                         // (A + B + C once) / peak HBM bandwidth
  std::string bound;                                 // compute | memory (which side of max() the steps take)
};

TpuGemmEstimate estimate_tpu_gemm(const HwSpec& hw, int64_t m, int64_t n, int64_t k, const TpuGemmOptions& o);

}  // namespace attnsim

// Latency of one dense GEMM C[m x n] = A[m x k] B[k x n] (times `batch`) on one chip, and of
// a memory-bound elementwise kernel. One model per architecture ("gpu", "tpu"), registered like the timing models.
//
// Contract:
//  - estimate() is a pure function of the hardware and the shape: deterministic, fast
//    (closed form; the step model calls it a few times per step shape), and it throws
//    attnsim::Error for a shape or dtype the hardware cannot run.
//  - latency_s includes the launch overhead of one kernel; flops = 2 batch m n k;
//    hbm_bytes counts A, B and C once (the ideal traffic).
#pragma once

#include <cstdint>
#include <string>

#include "sim/core/dtype.h"
#include "sim/core/registry.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

struct GemmShape {
  int64_t batch = 1, m = 1, n = 1, k = 1;
  Dtype dtype = Dtype::bf16;
};

struct GemmTiming {
  double latency_s = 0;
  double flops = 0;
  double hbm_bytes = 0;
  std::string bound;  // "compute" | "memory"
  std::string tile;   // the tiling the model chose, e.g. "128x256"
};

struct GemmModelEntry {
  std::string description;
  GemmTiming (*estimate)(const HwSpec& hw, const GemmShape& shape) = nullptr;
  // A memory-bound elementwise kernel (norm, activation, residual) moving `bytes`
  // through HBM, launch included (0 launch where the compiler fuses it, as XLA does).
  double (*stream_s)(const HwSpec& hw, double bytes) = nullptr;
};
using GemmModelRegistry = Registry<GemmModelEntry>;

// The model for hw.arch; an Error that lists the registered ones when there is none.
const GemmModelEntry& gemm_model_for(const HwSpec& hw);

}  // namespace attnsim

// Per-grid-step costs of a Pallas attention kernel on one TensorCore: MXU cycles of
// the step's two GEMMs (Q.K^T and P.V) mapped onto the core's MXUs, vector-unit
// cycles of softmax/exp/masking, the combined step time with VLIW co-issue, and the
// bytes the step moves through VMEM. Pure functions, no SystemC: the timing model
// (tpu_sim.cpp) and the tests both use them. Equations in docs/tpu-model.md.
#pragma once

#include <cstdint>

#include "models/tpu/tpu_kernel_params.h"
#include "models/tpu/tpu_params.h"

namespace attnsim {

// Cycles of C[m x n] = A[m x k] . B[k x n] on one TensorCore. Mosaic lays the GEMM out as
// A.B or as B^T.A^T and spreads it over the core's MXUs either by folds or by streamed
// rows; the cheapest of the four layouts is taken. `rate_scale` divides the cycles (2 for
// int8 where the MXU does two int8 MACs per cell and clock).
double core_gemm_cycles(const TpuParams& p, int64_t m, int64_t n, int64_t k, double rate_scale = 1.0);

// Folds run back to back on one MXU: each pays fill and drain (SCALE-Sim), unless the
// stationary operand is double-buffered, when only the first fold pays the load and
// every further fold costs its stream length, at least the R cycles of the next load.
double mxu_folds_cycles(const TpuParams& p, const MxuCycles& c, int64_t folds);

struct StepShape {
  int64_t rows = 0;      // query rows of the step (GQA heads x queries when packed)
  int64_t cols = 0;      // keys of the KV block
  int64_t head_dim = 0;
  double dtype_bytes = 2;
  bool masked = false;   // element mask evaluated on the VPU
};

struct StepCost {
  double mxu_cycles = 0;
  double vpu_cycles = 0;
  double compute_cycles = 0;  // MXU + VPU - co-issued share + grid-step overhead
  double vmem_bytes = 0;      // compute-side VMEM reads and writes (Q, K, V, accumulators)
  double mxu_flops = 0;       // 4 rows cols d, without padding
};

struct CoreRates {
  double exp_per_cycle = 0;         // vector unit transcendental rate
  double vector_ops_per_cycle = 0;  // vector unit ALU rate
  double rate_scale = 1;            // MXU dtype rate over its bf16 rate
};

StepCost step_cost(const TpuParams& p, const TpuKernelParams& k, const KernelSpec& spec, const CoreRates& rates,
                   const StepShape& s);

}  // namespace attnsim

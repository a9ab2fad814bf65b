// Host-resource guards: before a stage that could exhaust the machine starts, its
// memory and time are estimated from the shape, the pattern and the kernel, and a
// run over budget is refused with the estimate (one line) instead of thrashing.
// The estimates are deliberately cheap and rough (within a small factor); the
// constants are calibrated on the development machine (docs/robustness.md).
#pragma once

#include <string>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {

struct ResourceBudget {
  double memory_bytes = 0;  // host memory one run may use; 0 = default_memory_budget_bytes()
  double time_s = 600;      // wall time one run may take

  double memory_limit_bytes() const;
};

// 16 GiB, or three quarters of the physical memory when that is less.
double default_memory_budget_bytes();

struct ResourceEstimate {
  double memory_bytes = 0;
  double time_s = 0;
  double mask_blocks = 0;   // block-mask entries (mask and trace estimates only)
  double work_units = 0;
  double block_visits = 0;  // KV blocks visited by all units together
  std::string what;    // what dominates, e.g. "a block mask of ~8.6e9 blocks"
  std::string remedy;  // how to shrink it, e.g. "reduce the batch, heads or sequence length"
};

// Scores Q.K^T of a data-dependent pattern (relu, topk) and its bit mask.
ResourceEstimate estimate_data_pattern(const AttentionShape& shape);
// External Q, K, V arrays: the file image, the parsed array and the float copy.
ResourceEstimate estimate_array_inputs(const AttentionShape& shape);
// Block mask (and a dense kernel's contiguous cover), work units and the timing
// simulation. Exact bound first; rows are sampled only when the bound is over budget.
ResourceEstimate estimate_mask_and_trace(const ISparsityPattern& pattern, const BlockGeometry& geometry,
                                         const KernelSpec& kernel, const AttentionShape& shape,
                                         const ResourceBudget& budget);

// Throws attnsim::Error naming `stage`, the estimate and the flag that raises the budget.
void require_within_budget(const ResourceEstimate& estimate, const ResourceBudget& budget, const std::string& where,
                           const std::string& stage);

}  // namespace attnsim

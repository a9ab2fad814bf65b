// The functional CPU path: executes a trace tile by tile with Eigen (the same
// tiles, the same online-softmax order, optional bf16 input rounding with fp32
// accumulation) and compares every produced row with a float64 reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/functional/inputs.h"
#include "sim/trace/trace.h"

namespace attnsim {

enum class Precision { fp32, bf16 };

struct CheckOptions {
  Precision precision = Precision::bf16;
  int64_t sample_rows = 0;  // 0 = every row; else this many random (batch, head, query) rows
  uint64_t seed = 1;
  int threads = 0;          // 0 = hardware concurrency
  // Refuse a full check above this much work (multiply-adds in the reference).
  double max_full_check_macs = 2e10;
  // Refuse any check whose host memory (one head's K/V, per-row state) would exceed this.
  double max_memory_bytes = 2.0 * (1ull << 30);
  // Refuse any check estimated to take longer than this.
  double max_seconds = 600;
  const std::vector<float>* expected = nullptr;  // optional external output [B, Hq, q_len, d]
};

struct CheckResult {
  Precision precision = Precision::bf16;
  bool sampled = false;
  int64_t rows_checked = 0;
  int64_t empty_rows = 0;         // rows with no allowed key (output defined as zeros)
  double rel_error = 0;           // ||out - ref|| / ||ref|| over checked rows
  double max_abs_error = 0;
  double tolerance = 0;
  bool pass = false;
  double expected_rel_error = -1;  // external output vs reference, when given
  double expected_max_abs_error = -1;
};

double tolerance_for(Precision p);
// Work (multiply-adds) a full check needs, used for the up-front refusal.
double full_check_macs(const Trace& trace);

// Estimated cost of a check with these options.
struct CheckCost {
  int64_t rows = 0;         // output rows checked
  double kv_bytes = 0;      // K and V of one (batch, KV head), raw and in kernel precision
  double memory_bytes = 0;  // kv_bytes plus the per-row bookkeeping
  double full_macs = 0;     // the reference's multiply-adds over every row (full_check_macs)
  double time_s = 0;
};
CheckCost check_cost(const Trace& trace, const CheckOptions& options);
// Throws the refusal run_check would give, before any work, so callers can refuse
// before a long timing simulation (run_check calls it too).
void require_check_fits(const Trace& trace, const CheckOptions& options);

CheckResult run_check(const Trace& trace, const ISparsityPattern& pattern, const InputSource& inputs,
                      const CheckOptions& options);

// Round-to-nearest-even to bfloat16, returned as float.
float round_bf16(float x);

}  // namespace attnsim

// Compute cycles of one GEMM on an R x C systolic array (a TPU MXU), without memory
// stalls, for the three classic dataflows. The cycle count follows the demand
// schedule of SCALE-Sim v2 (Samajdar et al., ISPASS 2020): folds of the operand
// matrices are run one after another, each paying the array's fill and drain
// (derivation and M/N/K mapping in docs/tpu-model.md).
#pragma once

#include <cstdint>
#include <string>

namespace attnsim {

enum class Dataflow { output_stationary, weight_stationary, input_stationary };

// "os", "ws", "is" (or the long names); anything else is an attnsim::Error listing them.
Dataflow parse_dataflow(const std::string& name);
std::string dataflow_name(Dataflow df);

// C[M x N] = A[M x K] * B[K x N] on the array.
struct MxuGemm {
  int64_t rows = 128, cols = 128;  // array size R x C
  Dataflow dataflow = Dataflow::weight_stationary;
  int64_t m = 0, n = 0, k = 0;
};

struct MxuCycles {
  int64_t spatial_rows = 0, spatial_cols = 0, temporal = 0;  // Sr, Sc, T of the mapping
  int64_t row_folds = 0, col_folds = 0, folds = 0;
  int64_t cycles_per_fold = 0;
  int64_t compute_cycles = 0;  // folds x cycles_per_fold: the schedule's length
  // What SCALE-Sim v2 reports for this schedule with a stall-free memory ("Total Cycles" in
  // COMPUTE_REPORT.csv, printed as "Compute cycles"): it numbers cycles from 0 and reports the
  // last one, so compute_cycles - 1 (docs/tpu-model.md).
  int64_t scalesim_total_cycles = 0;
  double macs = 0;             // M x N x K
  double mapping_efficiency = 0;  // mean share of PEs mapped per fold
  double utilization = 0;         // macs / (R x C x compute_cycles)
};

MxuCycles mxu_gemm_cycles(const MxuGemm& g);

}  // namespace attnsim

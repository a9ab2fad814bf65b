#include "models/tpu/mxu.h"

#include "sim/core/error.h"

namespace attnsim {

Dataflow parse_dataflow(const std::string& name) {
  if (name == "os" || name == "output_stationary") return Dataflow::output_stationary;
  if (name == "ws" || name == "weight_stationary") return Dataflow::weight_stationary;
  if (name == "is" || name == "input_stationary") return Dataflow::input_stationary;
  throw Error("unknown dataflow '" + name + "'; use os (output stationary), ws (weight stationary) or is (input stationary)");
}

std::string dataflow_name(Dataflow df) {
  switch (df) {
    case Dataflow::output_stationary: return "os";
    case Dataflow::weight_stationary: return "ws";
    case Dataflow::input_stationary: return "is";
  }
  return "?";
}

MxuCycles mxu_gemm_cycles(const MxuGemm& g) {
  if (g.rows < 1 || g.cols < 1) throw Error("the array needs at least one row and one column");
  if (g.m < 1 || g.n < 1 || g.k < 1) throw Error("GEMM sizes M, N and K must be positive");
  const int64_t r = g.rows, c = g.cols;
  MxuCycles out;
  // Spatial dimensions go on the array's rows and columns, the temporal one streams through.
  // Stationary operands must first be loaded (R cycles) and the last results drained, so
  // WS and IS pay 2R + C + T - 2 per fold and OS, which keeps its outputs in place and
  // streams both operands from two edges, T + R + C - 2.
  switch (g.dataflow) {
    case Dataflow::output_stationary:
      out.spatial_rows = g.m, out.spatial_cols = g.n, out.temporal = g.k;
      out.cycles_per_fold = g.k + r + c - 2;
      break;
    case Dataflow::weight_stationary:
      out.spatial_rows = g.k, out.spatial_cols = g.n, out.temporal = g.m;
      out.cycles_per_fold = 2 * r + c + g.m - 2;
      break;
    case Dataflow::input_stationary:
      out.spatial_rows = g.k, out.spatial_cols = g.m, out.temporal = g.n;
      out.cycles_per_fold = 2 * r + c + g.n - 2;
      break;
  }
  out.row_folds = (out.spatial_rows + r - 1) / r;
  out.col_folds = (out.spatial_cols + c - 1) / c;
  out.folds = out.row_folds * out.col_folds;
  out.compute_cycles = out.folds * out.cycles_per_fold;
  // SCALE-Sim issues schedule row i at cycle i and reports the cycle of the last output row
  // (double_buffered_scratchpad.service_memory_requests), i.e. one less than the row count.
  out.scalesim_total_cycles = out.compute_cycles - 1;
  out.macs = static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  // Summed over folds, the mapped rows x columns are exactly Sr x Sc.
  out.mapping_efficiency = static_cast<double>(out.spatial_rows) * static_cast<double>(out.spatial_cols) /
                           (static_cast<double>(out.folds) * static_cast<double>(r * c));
  out.utilization = out.macs / (static_cast<double>(r * c) * static_cast<double>(out.compute_cycles));
  return out;
}

}  // namespace attnsim

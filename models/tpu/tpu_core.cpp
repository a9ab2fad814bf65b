#include "models/tpu/tpu_core.h"

#include <algorithm>
#include <limits>

namespace attnsim {
namespace {

constexpr int64_t kSublanes = 8, kLanes = 128;  // a vector register is 8 x 128 32-bit words

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }
int64_t ceil_div(int64_t x, int64_t by) { return (x + by - 1) / by; }

}  // namespace

double mxu_folds_cycles(const TpuParams& p, const MxuCycles& c, int64_t folds) {
  if (folds <= 0) return 0;
  const bool buffered = p.mxu_stationary_buffers >= 2 && p.mxu_dataflow != Dataflow::output_stationary;
  if (!buffered) return static_cast<double>(folds * c.cycles_per_fold);
  return static_cast<double>(c.cycles_per_fold + (folds - 1) * std::max<int64_t>(c.temporal, p.mxu_rows));
}

double core_gemm_cycles(const TpuParams& p, int64_t m, int64_t n, int64_t k, double rate_scale) {
  double best = std::numeric_limits<double>::infinity();
  const int64_t mxus = p.mxus_per_core;
  for (int orient = 0; orient < 2; ++orient) {
    MxuGemm g;
    g.rows = p.mxu_rows, g.cols = p.mxu_cols, g.dataflow = p.mxu_dataflow;
    g.m = orient == 0 ? m : n, g.n = orient == 0 ? n : m, g.k = k;
    const MxuCycles whole = mxu_gemm_cycles(g);
    // By folds: each MXU takes ceil(folds / mxus) of them.
    best = std::min(best, mxu_folds_cycles(p, whole, ceil_div(whole.folds, mxus)));
    // By streamed rows: each MXU takes ceil(m / mxus) rows of A and every fold.
    MxuGemm part = g;
    part.m = ceil_div(g.m, mxus);
    const MxuCycles share = mxu_gemm_cycles(part);
    best = std::min(best, mxu_folds_cycles(p, share, share.folds));
  }
  return best / rate_scale;
}

StepCost step_cost(const TpuParams& p, const TpuKernelParams& k, const KernelSpec& spec, const CoreRates& rates,
                   const StepShape& s) {
  StepCost c;
  const int64_t sub = k.kv_compute_block > 0 ? std::min(k.kv_compute_block, s.cols) : s.cols;
  const int64_t subs = ceil_div(s.cols, sub);
  // Each inner sub-block is its own pair of GEMMs: S = Q.K^T (rows x sub, contracting d)
  // and O += P.V (rows x d, contracting sub).
  const double qk = core_gemm_cycles(p, s.rows, sub, s.head_dim, rates.rate_scale);
  const double pv = core_gemm_cycles(p, s.rows, s.head_dim, sub, rates.rate_scale);
  c.mxu_cycles = static_cast<double>(subs) * (qk + pv);
  c.mxu_flops = 4.0 * static_cast<double>(s.rows * s.cols * s.head_dim);
  // The VPU works on whole (8, 128) vregs: ragged rows and columns cost full registers.
  const double scores = static_cast<double>(round_up(s.rows, kSublanes) * round_up(s.cols, kLanes));
  const double acc = static_cast<double>(round_up(s.rows, kSublanes) * round_up(s.head_dim, kLanes) * subs);
  const double ops = spec.softmax_vector_ops_per_element + (s.masked ? spec.mask_vector_ops_per_element : 0.0);
  c.vpu_cycles = scores / rates.exp_per_cycle + (scores * ops + acc * k.rescale_vector_ops_per_output) / rates.vector_ops_per_cycle;
  c.compute_cycles = c.mxu_cycles + c.vpu_cycles - k.mxu_vpu_overlap_fraction * std::min(c.mxu_cycles, c.vpu_cycles) +
                     k.grid_step_overhead_cycles;
  // Q, K and V are read from VMEM; the f32 accumulator and the (rows, 128) running max and
  // sum are read and written once per inner sub-block.
  const double rows = static_cast<double>(s.rows), d = static_cast<double>(s.head_dim);
  c.vmem_bytes = (rows + 2.0 * static_cast<double>(s.cols)) * d * s.dtype_bytes +
                 static_cast<double>(subs) * (2.0 * rows * d * 4.0 + 4.0 * rows * kLanes * 4.0);
  return c;
}

}  // namespace attnsim

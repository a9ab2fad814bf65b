// GEMMs on a TPU: the Pallas blocked-matmul estimate of models/tpu/tpu_gemm.h, with each
// dimension padded to a whole number of blocks (Pallas needs blocks that divide the
// arrays; XLA pads the same way). Blocks: 512 where the dimension allows, else the
// dimension rounded up to the MXU width (k, n) or to 8 sublanes (m).
#include <algorithm>

#include "models/llm/i_gemm_model.h"
#include "models/tpu/tpu_gemm.h"
#include "models/tpu/tpu_params.h"

namespace attnsim {
namespace {

int64_t round_up(int64_t x, int64_t q) { return (x + q - 1) / q * q; }

GemmTiming estimate(const HwSpec& hw, const GemmShape& s) {
  const TpuParams& p = hw.params<TpuParams>();
  TpuGemmOptions o;
  o.dtype = s.dtype;
  o.bm = std::min<int64_t>(512, round_up(s.m, 8));
  o.bn = std::min<int64_t>(512, round_up(s.n, p.mxu_cols));
  o.bk = std::min<int64_t>(512, round_up(s.k, p.mxu_rows));
  const int64_t m = round_up(s.m, o.bm), n = round_up(s.n, o.bn), k = round_up(s.k, o.bk);
  const TpuGemmEstimate e = estimate_tpu_gemm(hw, m, n, k, o);
  // A batch of independent GEMMs runs back to back in one kernel: launch once.
  const double one = e.latency_s - p.launch_overhead_s;
  GemmTiming t;
  t.latency_s = p.launch_overhead_s + static_cast<double>(s.batch) * one;
  t.flops = 2.0 * static_cast<double>(s.batch) * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  t.hbm_bytes = static_cast<double>(s.batch) * static_cast<double>(s.m * s.k + s.k * s.n + s.m * s.n) * dtype_bytes(s.dtype);
  t.bound = e.bound;
  t.tile = std::to_string(o.bm) + "x" + std::to_string(o.bn) + "x" + std::to_string(o.bk);
  return t;
}

// XLA fuses norms and elementwise ops into neighbouring kernels: no launch, HBM rate only.
double stream_s(const HwSpec& hw, double bytes) {
  return bytes / (hw.dram().bandwidth_bytes_per_s * hw.params<TpuParams>().hbm_efficiency);
}

const Registrar<GemmModelEntry> kRegister("tpu", GemmModelEntry{"Pallas blocked matmul on the MXUs (models/tpu/tpu_gemm.h)",
                                                                estimate, stream_s});

}  // namespace
}  // namespace attnsim

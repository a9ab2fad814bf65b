// GEMMs on a GPU as cuBLAS runs them: output tiles spread over the SMs in waves, each
// tile a k-loop on the tensor cores, against the HBM stream of A, B and C:
//   t = launch + max(waves x 2 tm tn k64 / (F_sm x tensor_efficiency) + kernel_overhead,
//                    (batch (mk + kn + mn) x bytes + partials) / (B_hbm x gemm_memory_efficiency))
//       [+ launch of the split-K reduction]
// The tile is the fastest of a few cuBLAS-like shapes (wave quantisation and padding of m,
// n to the tile, k to 64). Few-row GEMMs (decode projections) whose tiles fill less than a
// wave split k, as cuBLAS does (validation/h100/data/kernels/gemm_small_m.jsonl): fp32
// partials go to memory and a reduction kernel follows. The three constants are fitted on
// an H100 calibration subset (validation/fit_gemm.py, docs/capacity-planning.md) and
// carried to other GPUs.
#include <algorithm>
#include <cmath>

#include "models/gpu/gpu_params.h"
#include "models/llm/i_gemm_model.h"

namespace attnsim {
namespace {

// [fit] validation/fit_gemm.py on gemm.jsonl: 2048^3, 8192^3, 16384x4096x4096 (compute side),
// 8 x 8192 x 8192 (memory side); every other case validates, the small-M sweep included.
constexpr double kTensorEfficiency = 0.724;     // sustained share of the config's peak (clock under power, issue)
constexpr double kKernelOverheadS = 2.7e-6;     // pipeline fill and epilogue drain, once per kernel
constexpr double kGemmMemoryEfficiency = 0.856; // share of peak HBM bandwidth a GEMM's operand stream reaches
// Split-K limits: assumptions (cuBLAS's heuristics are not public; the kernels profiled in
// gemm_small_m.jsonl split 2 to 4 ways, and the model's choices there match their grids in kind).
constexpr int64_t kMaxKSplits = 16;
constexpr int64_t kMinSplitK = 256;             // k per split
constexpr int64_t kTiles[][2] = {{128, 256}, {256, 128}, {128, 128}, {64, 128}};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The largest power-of-two split of k that keeps the tiles within one wave.
int64_t k_splits(int64_t tiles, int64_t k, int64_t units) {
  int64_t s = 1;
  while (s < kMaxKSplits && tiles * s * 2 <= units && k / (s * 2) >= kMinSplitK) s *= 2;
  return s;
}

// The fastest matrix path's rate for the dtype (wgmma on Hopper, tcgen05 on Blackwell).
double flops_per_clock_per_sm(const HwSpec& hw, Dtype d) {
  double best = 0;
  for (const MatrixPath& p : hw.matrix_paths) {
    auto it = p.flops_per_clock_per_unit.find(d);
    if (it != p.flops_per_clock_per_unit.end()) best = std::max(best, it->second);
  }
  if (best <= 0) throw Error(hw.name + ": no matrix path has a " + dtype_name(d) + " rate for GEMMs");
  return best;
}

GemmTiming estimate(const HwSpec& hw, const GemmShape& s) {
  if (s.batch < 1 || s.m < 1 || s.n < 1 || s.k < 1) throw Error("GEMM sizes must be positive");
  const double sm_flops_per_s = flops_per_clock_per_sm(hw, s.dtype) * hw.clock_hz * kTensorEfficiency;
  const double eb = dtype_bytes(s.dtype);
  GemmTiming t;
  t.flops = 2.0 * static_cast<double>(s.batch) * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
  t.hbm_bytes = static_cast<double>(s.batch) * static_cast<double>(s.m * s.k + s.k * s.n + s.m * s.n) * eb;
  const double launch_s = hw.params<GpuParams>().launch_overhead_s;
  const double operand_bytes = t.hbm_bytes;
  t.latency_s = -1;
  for (const auto& tile : kTiles) {
    const int64_t tiles = s.batch * ceil_div(s.m, tile[0]) * ceil_div(s.n, tile[1]);
    const int64_t splits = k_splits(tiles, s.k, hw.units);
    const double waves = static_cast<double>(ceil_div(tiles * splits, hw.units));
    const double tile_flops = 2.0 * static_cast<double>(tile[0] * tile[1] * ceil_div(s.k, 64 * splits) * 64);
    const double compute_s = waves * tile_flops / sm_flops_per_s + kKernelOverheadS;
    // fp32 partials written by the split kernel and read back by the reduction
    const double partial_bytes = splits > 1 ? 2.0 * static_cast<double>(splits * s.batch * s.m * s.n) * 4.0 : 0.0;
    const double memory_s = (operand_bytes + partial_bytes) / (hw.dram().bandwidth_bytes_per_s * kGemmMemoryEfficiency);
    const double total_s = launch_s * (splits > 1 ? 2 : 1) + std::max(compute_s, memory_s);
    if (t.latency_s < 0 || total_s < t.latency_s) {
      t.latency_s = total_s;
      t.hbm_bytes = operand_bytes + partial_bytes;
      t.bound = compute_s >= memory_s ? "compute" : "memory";
      t.tile = std::to_string(tile[0]) + "x" + std::to_string(tile[1]) + (splits > 1 ? " split-k " + std::to_string(splits) : "");
    }
  }
  return t;
}

// Norms and elementwise kernels: one launch, then HBM at the config's measured copy efficiency.
double stream_s(const HwSpec& hw, double bytes) {
  const GpuParams& p = hw.params<GpuParams>();
  return p.launch_overhead_s + bytes / (hw.dram().bandwidth_bytes_per_s * p.hbm_efficiency);
}

const Registrar<GemmModelEntry> kRegister("gpu", GemmModelEntry{"cuBLAS-like tiles in waves vs the HBM stream (fitted on H100)",
                                                                estimate, stream_s});

}  // namespace

const GemmModelEntry& gemm_model_for(const HwSpec& hw) { return GemmModelRegistry::instance().get(hw.arch, "GEMM models"); }

}  // namespace attnsim

#include "models/llm/eager_kernels.h"

#include <algorithm>

#include "models/gpu/gpu_params.h"
#include "sim/core/error.h"

namespace attnsim {

namespace {
constexpr double kF32 = 4, kI64 = 8;
}

std::vector<double> eager_rms_norm_bytes(double rows, double h, double eb) {
  const double n = rows * h;
  return {n * (eb + kF32),                 // xf = x.float()
          2 * n * kF32,                    // xf.pow(2)
          n * kF32 + rows * kF32,          // .mean(-1, keepdim=True)
          2 * rows * kF32,                 // + eps
          2 * rows * kF32,                 // torch.rsqrt
          2 * n * kF32 + rows * kF32,      // xf * rsqrt(...)
          n * (kF32 + eb),                 // .to(dtype)
          2 * n * eb + h * eb};            // * weight
}

std::vector<double> eager_rope_bytes(double n, double t, double d, double eb) {
  return {n * eb,                          // -x[..., d/2:] (half the elements, read and written)
          2 * n * eb,                      // torch.cat([-x2, x1], -1)
          2 * n * eb + t * d * eb,         // x * cos
          2 * n * eb + t * d * eb,         // rot * sin
          3 * n * eb};                     // x * cos + rot * sin
}

std::vector<double> eager_rope_table_bytes(double t, double d, double eb) {
  return {t * kI64,                        // torch.arange(T) (decode: torch.full)
          t * (kI64 + kF32),               // positions.float()
          t * kF32 + d / 2 * kF32 + t * d / 2 * kF32,  // torch.outer(positions, inv_freq)
          2 * t * d * kF32,                // torch.cat([f, f], -1)
          2 * t * d * kF32,                // emb.cos()
          t * d * (kF32 + eb),             // .to(dtype)
          2 * t * d * kF32,                // emb.sin()
          t * d * (kF32 + eb)};            // .to(dtype)
}

double eager_kernel_s(const HwSpec& hw, double bytes) {
  if (hw.arch != "gpu") {
    throw Error(hw.name + ": 'ops: eager' describes PyTorch eager kernels on a GPU; the '" + hw.arch +
                "' architecture fuses elementwise ops (use ops fused)");
  }
  const double stream_s = bytes / (hw.dram().bandwidth_bytes_per_s * kElementwiseEfficiency);
  return hw.params<GpuParams>().launch_overhead_s + std::max(stream_s, kElementwiseFloorS);
}

}  // namespace attnsim

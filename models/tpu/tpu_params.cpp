#include "models/tpu/tpu_params.h"

namespace attnsim {
namespace {

std::shared_ptr<const ArchParams> parse_tpu(MapReader& r, const HwSpec& hw) {
  auto p = std::make_shared<TpuParams>();
  p->mxu_rows = static_cast<int>(r.integer("mxu_rows", 1, 4096));
  p->mxu_cols = static_cast<int>(r.integer("mxu_cols", 1, 4096));
  p->mxus_per_core = static_cast<int>(r.integer("mxus_per_core", 1, 64));
  p->cores_per_chip = static_cast<int>(r.integer("cores_per_chip", 1, 64));
  p->launch_overhead_s = r.quantity("launch_overhead", UnitKind::time);
  p->hbm_efficiency = r.number("hbm_efficiency", 0.05, 1.0);
  p->mxu_dataflow = parse_dataflow(r.choice("mxu_dataflow", {"os", "ws", "is"}));
  p->mxu_stationary_buffers = static_cast<int>(r.integer("mxu_stationary_buffers", 1, 2));
  const MemoryLevel* vmem = hw.find_level(MemoryKind::scratchpad);
  if (!vmem || !vmem->per_unit) {
    r.fail("mxu_rows", "a TPU needs a 'kind: scratchpad, per_unit: true' memory level (VMEM of each TensorCore)");
  }
  if (p->cores_per_chip != hw.units) {
    r.fail("cores_per_chip", "must equal compute.units (" + std::to_string(hw.units) + ")");
  }
  // An MXU does one multiply-add per cell per clock: the config's bf16 rate must agree.
  const double mxu_flops = 2.0 * p->mxu_rows * p->mxu_cols * p->mxus_per_core;
  for (const auto& path : hw.matrix_paths) {
    auto it = path.flops_per_clock_per_unit.find(Dtype::bf16);
    if (path.name == "mxu" && it != path.flops_per_clock_per_unit.end() && it->second != mxu_flops) {
      r.fail("mxu_rows", "compute.matrix_paths.mxu.bf16 = " + std::to_string(it->second) +
                             " disagrees with 2 x rows x cols x mxus_per_core = " + std::to_string(mxu_flops));
    }
  }
  return p;
}

const Registrar<ArchEntry> kRegisterTpu("tpu", ArchEntry{"TPU: TensorCores with MXU systolic arrays, VMEM, HBM", parse_tpu});

}  // namespace
}  // namespace attnsim

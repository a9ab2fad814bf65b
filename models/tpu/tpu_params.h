// TPU-specific parameters (the `tpu:` section of a hardware config).
#pragma once

#include "sim/hw/hw_spec.h"

namespace attnsim {

struct TpuParams : ArchParams {
  int mxu_rows = 0;
  int mxu_cols = 0;
  int mxus_per_core = 0;
  int cores_per_chip = 0;   // TensorCores; compute.units counts them chip-wide
  double launch_overhead_s = 0;
  double hbm_efficiency = 0;
};

}  // namespace attnsim

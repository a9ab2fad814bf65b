// TPU-specific parameters (the `tpu:` section of a hardware config).
#pragma once

#include "models/tpu/mxu.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

struct TpuParams : ArchParams {
  int mxu_rows = 0;
  int mxu_cols = 0;
  int mxus_per_core = 0;
  int cores_per_chip = 0;   // TensorCores; compute.units counts them chip-wide
  double launch_overhead_s = 0;
  double hbm_efficiency = 0;   // achievable share of peak HBM bandwidth for DMA streams
  Dataflow mxu_dataflow = Dataflow::weight_stationary;
  // Stationary-operand buffers per MXU: 2 loads the next fold's operand while the current
  // fold streams, so only the first fold of a GEMM pays the load (docs/tpu-model.md).
  int mxu_stationary_buffers = 1;
};

}  // namespace attnsim

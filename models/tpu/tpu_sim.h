// Discrete-event TPU timing model (SystemC). A Pallas kernel's grid runs in order on a
// TensorCore; on megacore chips the parallel (batch x head) dimension is split over the
// cores. One SC_THREAD per TensorCore walks its grid steps: each step's input blocks are
// DMA'd HBM -> VMEM `pipeline_stages` steps ahead (double buffering), the step waits for
// its own DMA, computes on the MXUs and the vector unit, and its output block is written
// back when the row ends. HBM is one bandwidth server shared by the cores, VMEM one per
// core. No SystemC header leaks out of this file's .cpp. Equations: docs/tpu-model.md.
#pragma once

#include <string>
#include <vector>

#include "models/common/level_traffic.h"

#include "models/kernels/i_kernel.h"
#include "sim/hw/hw_spec.h"
#include "sim/trace/trace.h"

namespace attnsim {

struct TpuSimResult {
  double latency_s = 0;   // launch overhead + kernel
  double kernel_s = 0;
  double launch_s = 0;
  double series_step_s = 0;
  std::vector<LevelTraffic> levels;  // vmem, hbm (names from the config)
  int cores = 0;
  int64_t grid_steps = 0, computed_steps = 0, skipped_steps = 0;
  double mxu_flops = 0;      // executed Q.K^T + P.V FLOPs (whole blocks)
  double exp_ops = 0;
  double mxu_busy_s = 0;     // summed over cores
  double vpu_busy_s = 0;
  double overhead_s = 0;     // grid-step bookkeeping
  double dma_wait_s = 0;     // time cores waited for their step's DMA (exposed memory time)
  std::vector<double> core_busy_s;
};

TpuSimResult simulate_tpu(const Trace& trace, const HwSpec& hw, const KernelSpec& kernel);

}  // namespace attnsim

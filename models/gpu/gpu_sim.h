// Cycle-approximate GPU timing model. Executes a trace on SystemC: one thread per
// CTA slot (SMs x resident CTAs) pulls work units from a block scheduler in grid
// order; memory is a TLM-2.0 target (loosely timed, temporally decoupled) holding
// the HBM and L2 bandwidth servers and the L2 tile-residency model.
// No SystemC header leaks out of this file's .cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/common/level_traffic.h"

#include "models/kernels/i_kernel.h"
#include "sim/hw/hw_spec.h"
#include "sim/trace/trace.h"

namespace attnsim {

struct GpuSimOptions {
  // KV blocks a CTA runs ahead before syncing with the kernel; 0 = 16 where CTAs share K/V
  // tiles (L2 reuse is then judged near each tile's own time; 64 mis-timed it,
  // docs/gpu-model.md), 64 where no tile is read twice (decode, split-KV).
  int64_t quantum_blocks = 0;
  int64_t max_series_points = 256;
  bool record_ctas = true;
};

struct CtaRecord {
  uint32_t unit;
  uint32_t sm;
  double start_s;
  double end_s;
};

struct GpuSimResult {
  double latency_s = 0;        // launch to last byte stored, launch overhead included
  double kernel_s = 0;         // first CTA start to end
  double launch_s = 0;
  double series_step_s = 0;
  std::vector<LevelTraffic> levels;  // smem, l2, hbm (names from the config)
  double padded_mma_flops = 0;
  double exp_ops = 0;
  double sm_busy_s = 0;        // summed over SMs: time with at least one CTA resident
  double l2_hits = 0, l2_misses = 0;  // expected K/V tile accesses that hit / miss in L2
  double l2_dirty_end_bytes = 0;      // outputs still in L2 (not yet in DRAM) when the kernel ends
  int64_t ctas = 0;
  int64_t slots = 0;
  double waves = 0;
  std::vector<CtaRecord> cta_records;
  std::vector<double> sm_busy_each_s;
};

GpuSimResult simulate_gpu(const Trace& trace, const HwSpec& hw, const KernelSpec& kernel,
                          const GpuSimOptions& options = {});

}  // namespace attnsim

// GPU-specific parameters (the `gpu:` section of a hardware config).
#pragma once

#include "models/gpu/l2_stack.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

struct GpuParams : ArchParams {
  double launch_overhead_s = 0;        // host launch to first CTA running
  double cta_launch_cycles = 0;        // block scheduler dispatch cost per CTA
  int max_ctas_per_sm = 0;             // hardware limit on resident CTAs
  double max_smem_per_cta_bytes = 0;   // dynamic shared memory limit per CTA
  double registers_per_sm_bytes = 0;
  double hbm_efficiency = 0;           // achievable fraction of peak HBM bandwidth
  double l2_efficiency = 0;            // achievable fraction of peak L2 bandwidth
  double exp_issue_fraction = 0;       // fraction of SFU rate usable by softmax exp
  double l2_usable_fraction = 0;       // share of L2 capacity that holds reusable K/V tiles
  double kernel_gap_s = 0;             // gap between two dependent kernels (split-KV combine)
  // Partitioned LRU L2 (l2_replay.h) where CTAs share K/V tiles; else random replacement only.
  bool l2_lru = false;
  int l2_partitions = 1;
  int l2_partition_sm_run = 1;         // consecutive SMs (in CTA fill order) on one partition
  L2StackParams l2_partition;          // per partition
};

}  // namespace attnsim

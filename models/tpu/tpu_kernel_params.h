// TPU-specific kernel parameters: the `tpu:` section of a Pallas kernel config
// (workloads/kernels/tpu_*.yaml). The keys and their physical meaning are in
// docs/tpu-model.md; the common keys (tiles, pipeline_stages as VMEM buffers per
// input, softmax/mask vector ops) stay at the top level of the kernel config.
#pragma once

#include "models/kernels/i_kernel.h"

namespace attnsim {

enum class KvGrid {
  all_blocks,  // grid's KV axis spans every KV block; skipped blocks are still grid steps (flash_attention.py)
  compressed,  // KV axis spans the longest row's non-empty blocks (splash's data_next); shorter rows pad
};

struct TpuKernelParams : KernelArchParams {
  KvGrid kv_grid = KvGrid::all_blocks;
  int64_t kv_compute_block = 0;          // keys per inner MXU GEMM inside a grid step; 0 = the whole kv_block
  double grid_step_overhead_cycles = 0;  // scalar-core bookkeeping of every grid step, computed or skipped
  double mxu_vpu_overlap_fraction = 0;   // share of the shorter of MXU and VPU work issued in the same VLIW bundles
  double rescale_vector_ops_per_output = 0;  // VPU ops per accumulator element per step (online-softmax rescale)
  bool masks_every_block = false;        // masking applied to every computed block, not only partial ones
};

}  // namespace attnsim

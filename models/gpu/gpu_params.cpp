#include "models/gpu/gpu_params.h"

namespace attnsim {
namespace {

std::shared_ptr<const ArchParams> parse_gpu(MapReader& r, const HwSpec& hw) {
  auto p = std::make_shared<GpuParams>();
  p->launch_overhead_s = r.quantity("launch_overhead", UnitKind::time);
  p->cta_launch_cycles = static_cast<double>(r.integer("cta_launch_cycles", 0, 1000000));
  p->max_ctas_per_sm = static_cast<int>(r.integer("max_ctas_per_sm", 1, 1024));
  p->max_smem_per_cta_bytes = r.quantity("max_smem_per_cta", UnitKind::bytes);
  p->registers_per_sm_bytes = r.quantity("registers_per_sm", UnitKind::bytes);
  p->hbm_efficiency = r.number("hbm_efficiency", 0.05, 1.0);
  p->l2_efficiency = r.number("l2_efficiency", 0.05, 1.0);
  p->exp_issue_fraction = r.number("exp_issue_fraction", 0.05, 1.0);
  p->l2_usable_fraction = r.number("l2_usable_fraction", 0.01, 1.0);
  p->kernel_gap_s = r.quantity("kernel_gap", UnitKind::time);
  // Optional, all four together: the partitioned LRU L2 replay (models/gpu/l2_replay.h).
  const char* lru_keys[] = {"l2_partitions", "l2_partition_sm_run", "l2_partition_capacity", "l2_partition_ramp"};
  p->l2_lru = r.has(lru_keys[0]);
  for (const char* k : lru_keys) {
    if (r.has(k) != p->l2_lru) {
      r.fail(k, "the partitioned L2 takes all four of l2_partitions, l2_partition_sm_run, l2_partition_capacity, "
                "l2_partition_ramp");
    }
  }
  if (p->l2_lru) {
    p->l2_partitions = static_cast<int>(r.integer("l2_partitions", 1, 64));
    p->l2_partition_sm_run = static_cast<int>(r.integer("l2_partition_sm_run", 1, hw.units));
    p->l2_partition.capacity_bytes = r.quantity("l2_partition_capacity", UnitKind::bytes);
    p->l2_partition.ramp_bytes = r.quantity("l2_partition_ramp", UnitKind::bytes);
    if (p->l2_partition.capacity_bytes <= 0) r.fail("l2_partition_capacity", "must be positive");
    if (p->l2_partition.ramp_bytes > 2 * p->l2_partition.capacity_bytes) {
      r.fail("l2_partition_ramp", "must be at most twice l2_partition_capacity");
    }
  }
  const MemoryLevel* smem = hw.find_level(MemoryKind::scratchpad);
  if (!smem) r.fail("max_smem_per_cta", "a GPU needs a 'kind: scratchpad' memory level (shared memory)");
  if (p->max_smem_per_cta_bytes > smem->capacity_bytes) {
    r.fail("max_smem_per_cta", "exceeds the shared-memory capacity of level '" + smem->name + "'");
  }
  return p;
}

const Registrar<ArchEntry> kRegisterGpu("gpu", ArchEntry{"GPU: SMs with tensor cores, SFU, SMEM, L2, HBM", parse_gpu});

}  // namespace
}  // namespace attnsim

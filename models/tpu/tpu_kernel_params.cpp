#include "models/tpu/tpu_kernel_params.h"

#include <cmath>

namespace attnsim {
namespace {

std::shared_ptr<const KernelArchParams> parse_tpu_kernel(MapReader& r, const KernelSpec& common) {
  auto p = std::make_shared<TpuKernelParams>();
  p->kv_grid = r.choice("kv_grid", {"all_blocks", "compressed"}) == "compressed" ? KvGrid::compressed : KvGrid::all_blocks;
  p->kv_compute_block = r.integer("kv_compute_block", 0, 4096, 0);
  p->grid_step_overhead_cycles = r.number("grid_step_overhead_cycles", 0.0, 1e7);
  p->mxu_vpu_overlap_fraction = r.number("mxu_vpu_overlap_fraction", 0.0, 1.0);
  p->rescale_vector_ops_per_output = r.number("rescale_vector_ops_per_output", 0.0, 1000);
  p->masks_every_block = r.boolean("masks_every_block", false);
  // Pallas allocates whole VMEM buffers per input: `pipeline_stages` counts them.
  if (common.pipeline_stages < 1 || common.pipeline_stages != std::floor(common.pipeline_stages)) {
    r.fail("kv_grid", "a TPU kernel's pipeline_stages counts VMEM buffers per input and must be a whole number >= 1");
  }
  for (const TileChoice& t : common.tiles) {
    if (p->kv_compute_block > 0 && t.kv_block % p->kv_compute_block != 0) {
      r.fail("kv_compute_block", "must divide every tile's kv_block (" + std::to_string(t.kv_block) + ")");
    }
  }
  return p;
}

const Registrar<KernelArchEntry> kRegister("tpu", KernelArchEntry{"Pallas TPU kernel parameters", parse_tpu_kernel});

}  // namespace
}  // namespace attnsim

// Kernel config loading and lookup.
#include <algorithm>
#include <filesystem>

#include "models/kernels/i_kernel.h"
#include "sim/core/paths.h"

namespace attnsim {

const TileChoice& KernelSpec::tile_for(int64_t head_dim) const {
  for (const TileChoice& t : tiles) {
    if (head_dim <= t.max_head_dim) return t;
  }
  throw Error("kernel '" + name + "' cannot tile head_dim " + std::to_string(head_dim) + "; it supports head_dim <= " +
              std::to_string(tiles.back().max_head_dim) + " (pick another kernel or a smaller head_dim)");
}

int64_t KernelSpec::padded_head_dim(int64_t head_dim) const {
  for (int64_t built : head_dims) {
    if (head_dim <= built) return built;
  }
  return head_dim;
}

std::string IKernel::dispatch(const AttentionShape&, const HwSpec&) const { return ""; }

BlockGeometry IKernel::block_geometry(const AttentionShape& shape) const {
  const TileChoice& t = spec().tile_for(shape.head_dim);
  BlockGeometry g;
  g.batch = shape.batch;
  g.heads = shape.q_heads;
  g.q_len = shape.q_len;
  g.kv_len = shape.kv_len;
  g.q_offset = shape.q_offset();
  g.q_block = t.q_block;
  g.kv_block = t.kv_block;
  return g;
}

namespace {
void read_gpu_keys(MapReader& r, KernelSpec& k);  // the GPU timing model's keys (docs/gpu-model.md)
}  // namespace

KernelSpec load_kernel_spec(const std::string& path) {
  MapReader r(load_yaml_file(path), path);
  KernelSpec k;
  k.source_file = path;
  k.name = r.string("name");
  k.impl = r.string("impl");
  k.arch = r.string("arch", "gpu");
  k.description = r.string("description", "");
  k.runs_on = r.string("runs_on", "");
  if (!k.runs_on.empty()) {
    try {
      AttachmentRegistry::instance().get(k.runs_on, "attachable units");
    } catch (const Error& e) {
      r.fail("runs_on", e.what());
    }
  }
  if (!k.runs_on.empty()) k.aligned_fallback = r.string("aligned_fallback", "");  // else an unknown key
  r.allow("sources");
  k.mma_path = r.string("mma_path");
  for (MapReader& t : r.map_list("tiles")) {
    TileChoice c;
    c.max_head_dim = t.integer("max_head_dim", 1, 1024);
    c.q_block = t.integer("q_block", 1, 4096);
    c.kv_block = t.integer("kv_block", 1, 4096);
    if (k.arch == "gpu") {
      c.ctas_per_sm = static_cast<int>(t.integer("ctas_per_sm", 1, 64, 0));
      c.smem_reader_rows = t.integer("smem_reader_rows", 1, 4096, 0);
      c.uneven_width_smem_wavefronts_per_key = t.number("uneven_width_smem_wavefronts_per_key", 0.0, 1e3, 0.0);
      c.global_output_accumulator = t.choice("output_accumulator", {"registers", "global"}, "registers") == "global";
    }
    t.finish();
    if (!k.tiles.empty() && c.max_head_dim <= k.tiles.back().max_head_dim) {
      t.fail("max_head_dim", "tiles must be listed by ascending max_head_dim");
    }
    k.tiles.push_back(c);
  }
  k.pipeline_stages = r.number("pipeline_stages", 0.5, 16);
  // GPU-only keys are read for GPU kernels only, so another arch's kernel refuses them as unknown.
  const bool gpu = k.arch == "gpu";
  if (gpu) k.softmax_overlap_fraction = r.number("softmax_overlap_fraction", 0.0, 1.0);
  k.skips_empty_blocks = r.boolean("skips_empty_blocks");
  k.max_kv_splits = r.integer("max_kv_splits", 1, 1024, 1);
  k.pack_gqa = r.boolean("pack_gqa", false);
  if (gpu) read_gpu_keys(r, k);
  // A tile without its own occupancy or readers takes the kernel's, so every user reads the tile.
  for (TileChoice& t : k.tiles) {
    if (t.ctas_per_sm == 0) t.ctas_per_sm = k.ctas_per_sm;
    if (t.smem_reader_rows == 0) t.smem_reader_rows = k.smem_reader_rows;
  }
  k.softmax_vector_ops_per_element = r.number("softmax_vector_ops_per_element", 0, 1000);
  k.mask_vector_ops_per_element = r.number("mask_vector_ops_per_element", 0, 1000);
  if (gpu) {
    k.mma_efficiency = r.number("mma_efficiency", 0.05, 1.0, 1.0);
    k.lone_cta_throughput_fraction = r.number("lone_cta_throughput_fraction", 0.05, 1.0, 1.0);
    k.memory_efficiency = r.number("memory_efficiency", 0.05, 1.0, 1.0);
    k.tile_overhead_cycles = r.number("tile_overhead_cycles", 0.0, 1e6, 0.0);
    k.uneven_width_cycles_per_wavefront = r.number("uneven_width_cycles_per_wavefront", 0.0, 1e3, 0.0);
  }
  // Optional times that default to none (a quantity must otherwise be positive).
  auto optional_time = [&r](const char* key) { return r.has(key) ? r.quantity(key, UnitKind::time) : (r.allow(key), 0.0); };
  k.fixed_overhead_s = optional_time("fixed_overhead");
  k.host_dispatch_s = optional_time("host_dispatch");
  k.combine_overhead_s = optional_time("combine_overhead");
  k.combine_serial = r.boolean("combine_serial", false);
  const std::string ph = r.choice("phases", {"prefill", "decode", "both"});
  if (ph == "both") k.phases = {"prefill", "decode"};
  else k.phases = {ph};
  if (!gpu) {
    const KernelArchEntry& entry = KernelArchRegistry::instance().get(k.arch, "kernel architectures");
    MapReader section = r.map(k.arch);
    k.arch_params = entry.parse(section, k);
    section.finish();
  }
  r.finish();
  try {
    KernelRegistry::instance().get(k.impl, "kernel implementations");
  } catch (const Error& e) {
    r.fail("impl", e.what());
  }
  return k;
}

void require_matrix_path(const KernelSpec& spec, const HwSpec& hw) {
  try {
    hw.matrix_path(spec.mma_path);
  } catch (const Error& e) {
    throw Error((spec.source_file.empty() ? "" : spec.source_file + ": ") + "mma_path: " + e.what());
  }
}

namespace {

void read_gpu_keys(MapReader& r, KernelSpec& k) {
  k.ctas_per_sm = static_cast<int>(r.integer("ctas_per_sm", 1, 64));
  k.head_dims = r.integer_list("head_dims", 1, 1024, std::vector<int64_t>{});
  if (!std::is_sorted(k.head_dims.begin(), k.head_dims.end(), std::less_equal<>())) {
    r.fail("head_dims", "list the built head dims in ascending order, each once");
  }
  k.mma_tile_m = r.integer("mma_tile_m", 1, 1024);
  k.computes_full_q_tile = r.boolean("computes_full_q_tile", false);
  k.softmax_over_q_tile = r.boolean("softmax_over_q_tile", false);
  k.exposed_load_latency = r.boolean("exposed_load_latency", false);
  k.persistent = r.boolean("persistent", false);
  k.kv_descending = r.choice("kv_order", {"ascending", "descending"}, "ascending") == "descending";
  k.spill_bytes_per_cta = r.has("spill_per_cta") ? r.quantity("spill_per_cta", UnitKind::bytes) : (r.allow("spill_per_cta"), 0.0);
  // The held area defaults to the write-back: a kernel whose stack frame was not measured.
  k.spill_area_bytes_per_cta = r.has("spill_area_per_cta") ? r.quantity("spill_area_per_cta", UnitKind::bytes)
                                                          : (r.allow("spill_area_per_cta"), k.spill_bytes_per_cta);
  k.splits_within_one_wave = r.boolean("splits_within_one_wave", false);
  k.split_kernel = r.string("split_kernel", "");
  if (k.splits_within_one_wave && r.has("split_heuristic")) {
    r.fail("splits_within_one_wave", "has no effect beside split_heuristic, which sets the split count; keep one of them");
  }
  if (r.has("split_heuristic")) {
    MapReader h = r.map("split_heuristic");
    auto& sh = k.split_heuristic;
    sh.present = true;
    sh.slots_per_sm = h.number("slots_per_sm", 0.25, 64);
    sh.one_pass_fill = h.number("one_pass_fill", 0.0, 64);
    sh.wave_efficiency = h.number("wave_efficiency", 0.0, 1.0);
    sh.one_pass_kernel = h.string("one_pass_kernel", "");
    h.finish();
  } else {
    r.allow("split_heuristic");
  }
  k.smem_reader_rows = r.integer("smem_reader_rows", 1, 4096);
}

}  // namespace

std::vector<std::string> list_kernel_configs() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(data_root()) / "workloads" / "kernels", ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<IKernel> make_kernel(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string path = name_or_path;
  if (!fs::is_regular_file(path, ec)) {
    path = (fs::path(data_root()) / "workloads" / "kernels" / (name_or_path + ".yaml")).string();
    if (!fs::is_regular_file(path, ec)) {
      std::vector<std::string> names;
      for (const auto& p : list_kernel_configs()) names.push_back(fs::path(p).stem().string());
      const std::string hint = nearest_name(name_or_path, names);
      throw Error("unknown kernel '" + name_or_path + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; available kernels: " + join_names(names));
    }
  }
  KernelSpec spec = load_kernel_spec(path);
  const KernelEntry& entry = KernelRegistry::instance().get(spec.impl, "kernel implementations");
  return entry.create(std::move(spec));
}

std::string default_kernel(const HwSpec& hw, Phase phase) {
  if (hw.arch == "tpu") return phase == Phase::decode ? "tpu_decode" : "tpu_splash";
  if (hw.arch != "gpu") throw Error(hw.name + ": no attention kernels exist for arch '" + hw.arch + "'");
  if (phase == Phase::decode) return "flash_decoding";
  return hw.has_matrix_path("wgmma") ? "fa3" : "fa2";
}

std::string block_sparse_kernel(const HwSpec& hw) {
  if (hw.arch == "tpu") return "tpu_splash";
  // The flex config is FlexAttention's Hopper (wgmma) build; without that path the dense kernel stays.
  return hw.has_matrix_path("wgmma") ? "flex" : "";
}

}  // namespace attnsim

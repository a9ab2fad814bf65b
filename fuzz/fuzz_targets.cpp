#include "fuzz/fuzz_targets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/functional/inputs.h"
#include "sim/hw/hw_graph.h"
#include "sim/io/npy.h"
#include "sim/session/budget.h"

namespace attnsim::fuzz {
namespace {

namespace fs = std::filesystem;

// Work per input stays small so the fuzzers run thousands of inputs a second: patterns
// are built only up to this many (batch x head x query x key) pairs times head_dim.
constexpr double kMaxPairDims = double(1 << 22);
// The shape the mask target reads its files against (the seed corpus matches it).
constexpr int64_t kMaskHeads = 2, kMaskTokens = 256;

// A bad error message; never caught by attempt(), so it reaches check_one.
struct Finding : std::logic_error {
  using std::logic_error::logic_error;
};

void require_clean(const Error& e) {
  const std::string msg = e.what();
  if (msg.empty()) throw Finding("attnsim::Error with an empty message");
  if (msg.find('\n') != std::string::npos) throw Finding("attnsim::Error message spans lines: " + msg);
}

// Runs f; an attnsim::Error with a clean message is an accepted outcome (returns false).
template <class F>
bool attempt(F&& f) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    require_clean(e);
    return false;
  }
}

// The input as a file, for loaders that take a path; one per process, removed afterwards.
struct ScratchFile {
  fs::path path;
  ScratchFile(const std::string& ext, const uint8_t* data, size_t size) {
    path = fs::temp_directory_path() / ("attnsim_fuzz_" + std::to_string(::getpid()) + ext);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!f) throw std::runtime_error("cannot write the scratch file " + path.string());
  }
  ~ScratchFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// A kernel that exercises both mask views (dense cover and block-sparse) and split-KV.
KernelSpec probe_kernel(bool skips_empty_blocks) {
  KernelSpec k;
  k.name = "fuzz";
  k.skips_empty_blocks = skips_empty_blocks;
  k.max_kv_splits = 4;
  return k;
}

// Block mask, statistics, cover and work units of a pattern at one geometry.
void exercise_pattern(const ISparsityPattern& pattern, const AttentionShape& s, int64_t q_block, int64_t kv_block) {
  const BlockGeometry g{s.batch, s.q_heads, s.q_len, s.kv_len, s.q_offset(), q_block, kv_block};
  for (const bool sparse : {false, true}) {
    ResourceBudget tiny;  // forces the sampled estimate
    tiny.memory_bytes = 1;
    (void)estimate_mask_and_trace(pattern, g, probe_kernel(sparse), s, tiny);
  }
  const auto mask = std::make_shared<const BlockMask>(pattern.block_mask(g));
  (void)compute_stats(*mask);
  const BlockMask cover = contiguous_cover(*mask);
  TraceTiling tiling;
  tiling.q_block = q_block;
  tiling.kv_block = kv_block;
  tiling.kv_splits = 3;
  const Trace trace(s, tiling, mask, make_units(s, tiling, *mask), "fuzz");
  (void)trace.totals();
  (void)compute_stats(cover);
}

}  // namespace

void config_input(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  YAML::Node root;
  if (!attempt([&] { root = load_yaml_string(text, "fuzz.yaml"); })) return;
  attempt([&] {
    const HwSpec hw = parse_hw_spec(root, "fuzz.yaml");
    (void)HwGraph(hw).to_dot();
    (void)hw.dram_capacity_bytes();
    for (const MatrixPath& p : hw.matrix_paths) {
      for (const auto& [dtype, rate] : p.flops_per_clock_per_unit) (void)hw.peak_flops(p.name, dtype);
    }
  });
  // Kernel configs are loaded from a path: the same bytes as a file.
  const ScratchFile file(".yaml", data, size);
  attempt([&] { (void)load_kernel_spec(file.path.string()); });
}

void workload_input(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Workload w;
  if (!attempt([&] { w = parse_workload(load_yaml_string(text, "fuzz.yaml"), "fuzz.yaml"); })) return;
  const AttentionShape& s = w.shape;
  // The guards must answer for every accepted shape, however absurd.
  const ResourceBudget budget;
  attempt([&] { require_within_budget(estimate_data_pattern(s), budget, "fuzz.yaml", "the pattern"); });
  attempt([&] { require_within_budget(estimate_array_inputs(s), budget, "fuzz.yaml", "the inputs"); });
  const double pair_dims = static_cast<double>(s.batch) * static_cast<double>(s.q_heads) *
                           static_cast<double>(s.q_len) * static_cast<double>(s.kv_len) *
                           static_cast<double>(s.head_dim);
  if (pair_dims > kMaxPairDims) return;
  // `file` reads whatever path it is given: the mask target covers it with real bytes.
  const YAML::Node& spec = w.pattern;  // const: a lookup must not insert the key
  const YAML::Node name = spec["name"];
  if (name.IsDefined() && name.IsScalar() && name.Scalar() == "file") return;
  const RandomInputs inputs(s, w.seed);
  PatternContext ctx;
  ctx.shape = s;
  ctx.seed = w.seed;
  ctx.inputs = &inputs;
  ctx.threads = 1;
  attempt([&] {
    const auto pattern = make_pattern(w.pattern, ctx, "fuzz.yaml");
    exercise_pattern(*pattern, s, 64, 128);
    exercise_pattern(*pattern, s, 1 + static_cast<int64_t>(w.seed % 97), 1 + static_cast<int64_t>(w.seed % 131));
  });
}

void mask_input(const uint8_t* data, size_t size) {
  attempt([&] {
    const io::NpyArray a = io::parse_npy(data, size, "fuzz.npy");
    if (a.kind == 'f') (void)a.to_float();
    else (void)a.to_int64();
  });
  attempt([&] {
    for (const auto& [name, a] : io::parse_npz(data, size, "fuzz.npz")) (void)a.to_double();
  });
  AttentionShape s;
  s.batch = 1;
  s.q_heads = s.kv_heads = kMaskHeads;
  s.head_dim = 16;
  s.q_len = s.kv_len = kMaskTokens;
  const RandomInputs inputs(s, 1);
  for (const char* ext : {".npz", ".npy"}) {
    const ScratchFile file(ext, data, size);
    PatternContext ctx;
    ctx.shape = s;
    ctx.inputs = &inputs;
    YAML::Node spec;
    spec["name"] = "file";
    spec["path"] = file.path.string();
    attempt([&] {
      const auto pattern = make_pattern(spec, ctx, "fuzz.yaml");
      exercise_pattern(*pattern, s, 128, 128);  // the seed files' own block size
      exercise_pattern(*pattern, s, 48, 80);    // re-binned
    });
  }
}

Target target_named(const std::string& name) {
  if (name == "config") return config_input;
  if (name == "workload") return workload_input;
  if (name == "mask") return mask_input;
  throw std::invalid_argument("no fuzz target '" + name + "'");
}

std::string check_one(Target target, const uint8_t* data, size_t size) {
  try {
    target(data, size);
    return "";
  } catch (const Finding& f) {
    return f.what();
  } catch (const Error& e) {  // outside attempt(): still fine if the message is clean
    try {
      require_clean(e);
    } catch (const Finding& f) {
      return f.what();
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("an exception other than attnsim::Error escaped: ") + e.what();
  } catch (...) {
    return "a non-standard exception escaped";
  }
}

}  // namespace attnsim::fuzz

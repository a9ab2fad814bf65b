#include "sim/workload/workload.h"

#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

namespace {
constexpr int64_t kMaxLen = int64_t{1} << 24;  // 16M tokens
}

double AttentionShape::q_bytes() const {
  return static_cast<double>(batch) * q_heads * q_len * head_dim * dtype_bytes(dtype);
}
double AttentionShape::kv_bytes() const {
  return 2.0 * batch * kv_heads * kv_len * head_dim * dtype_bytes(dtype);
}
double AttentionShape::out_bytes() const { return q_bytes(); }

void validate_shape(const AttentionShape& s, const std::string& where) {
  if (s.q_heads % s.kv_heads != 0) {
    throw Error(where + ": kv_heads (" + std::to_string(s.kv_heads) + ") must divide q_heads (" +
                std::to_string(s.q_heads) + "); GQA groups query heads evenly over KV heads");
  }
  if (s.q_len > s.kv_len) {
    throw Error(where + ": q_len (" + std::to_string(s.q_len) + ") exceeds kv_len (" + std::to_string(s.kv_len) +
                "); queries attend to keys that include themselves, so kv_len >= q_len");
  }
  if (s.phase == Phase::decode && s.q_len > 16) {
    throw Error(where + ": phase decode with q_len " + std::to_string(s.q_len) +
                "; decode means 1 (or a few speculative) new tokens - use phase: prefill for longer queries");
  }
}

Workload parse_workload(const YAML::Node& root, const std::string& source_name) {
  if (!root || root.IsNull()) {
    throw Error(source_name + ": the file is empty; a workload needs name, batch, q_heads, head_dim, phase and "
                              "kv_len (docs/config-schema.md)");
  }
  MapReader r(root, source_name);
  Workload w;
  w.source_path = source_name;
  w.name = r.string("name");
  r.allow("description");
  AttentionShape& s = w.shape;
  s.batch = r.integer("batch", 1, 1 << 20);
  s.q_heads = r.integer("q_heads", 1, 4096);
  s.kv_heads = r.integer("kv_heads", 1, 4096, s.q_heads);
  s.head_dim = r.integer("head_dim", 1, 1024);
  const std::string phase = r.choice("phase", {"prefill", "decode"});
  s.phase = phase == "decode" ? Phase::decode : Phase::prefill;
  s.kv_len = r.integer("kv_len", 1, kMaxLen);
  s.q_len = r.integer("q_len", 1, kMaxLen, s.phase == Phase::decode ? 1 : s.kv_len);
  std::vector<std::string> dtypes;
  for (const char* const* n = dtype_names(); *n; ++n) dtypes.push_back(*n);
  s.dtype = parse_dtype(r.choice("dtype", dtypes, std::string("bf16")));
  w.kernel = r.string("kernel", "");
  w.seed = static_cast<uint64_t>(r.integer("seed", 0, INT64_MAX, 1));
  r.allow("pattern");
  // Copy-construct: assigning a missing key's (invalid) node to a Node throws in yaml-cpp.
  const YAML::Node pattern = root.IsMap() ? root["pattern"] : YAML::Node();
  if (!pattern.IsDefined()) {
    w.pattern = YAML::Node(YAML::NodeType::Map);
    w.pattern["name"] = "dense";
  } else if (!pattern.IsMap()) {
    r.fail("pattern", "expected a mapping like '{name: causal}'");
  } else {
    w.pattern = pattern;
  }
  r.finish();
  validate_shape(s, source_name);
  return w;
}

Workload load_workload(const std::string& path) { return parse_workload(load_yaml_file(path), path); }

}  // namespace attnsim

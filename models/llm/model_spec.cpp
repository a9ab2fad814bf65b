#include "models/llm/model_spec.h"

#include <algorithm>
#include <filesystem>

#include "models/llm/data_files.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

double ModelSpec::parameter_count() const {
  const double h = static_cast<double>(hidden), qd = static_cast<double>(q_heads * head_dim),
               kvd = static_cast<double>(kv_heads * head_dim);
  const double attn = h * qd + 2.0 * h * kvd + qd * h;        // Wq, Wk, Wv, Wo
  const double mlp = 3.0 * h * static_cast<double>(ffn);      // gate, up, down
  const double norms = 2.0 * h;                               // two RMSNorm weight vectors
  return static_cast<double>(layers) * (attn + mlp + norms) + 2.0 * static_cast<double>(vocab) * h + h;
}

double ModelSpec::kv_bytes_per_token() const {
  return 2.0 * static_cast<double>(layers * kv_heads * head_dim) * dtype_bytes(dtype);
}

namespace {

// "0-3" or "7": an inclusive layer range.
std::pair<int64_t, int64_t> parse_range(MapReader& r, const std::string& key, int64_t layers) {
  const std::string text = r.string(key);
  const size_t dash = text.find('-');
  int64_t a = -1, b = -1;
  try {
    size_t used = 0;
    a = std::stoll(text.substr(0, dash), &used);
    if (used != (dash == std::string::npos ? text.size() : dash)) a = -1;
    b = a;
    if (dash != std::string::npos) {
      b = std::stoll(text.substr(dash + 1), &used);
      if (used != text.size() - dash - 1) a = -1;
    }
  } catch (const std::exception&) {
    a = -1;
  }
  if (a < 0 || b < a || b >= layers) {
    r.fail(key, "'" + text + "' is not a layer range within 0-" + std::to_string(layers - 1) + " (e.g. '0-3' or '7')");
  }
  return {a, b};
}

YAML::Node pattern_node(const YAML::Node& parent, MapReader& r, const std::string& key) {
  r.allow(key);
  const YAML::Node p = parent[key];
  if (!p.IsDefined() || !p.IsMap() || !p["name"]) r.fail(key, "expected a pattern mapping like '{name: causal}'");
  return p;
}

}  // namespace

ModelSpec parse_model_spec(const YAML::Node& root, const std::string& source_name) {
  if (!root || root.IsNull()) throw Error(source_name + ": the file is empty; a model needs name, layers, hidden, ... (docs/capacity-planning.md)");
  MapReader r(root, source_name);
  ModelSpec m;
  m.source_path = source_name;
  m.name = r.string("name");
  r.allow("description");
  r.allow("sources");
  m.layers = r.integer("layers", 1, 1024);
  m.hidden = r.integer("hidden", 1, 1 << 18);
  m.q_heads = r.integer("q_heads", 1, 4096);
  m.kv_heads = r.integer("kv_heads", 1, 4096, m.q_heads);
  m.head_dim = r.integer("head_dim", 1, 1024);
  m.ffn = r.integer("ffn", 1, 1 << 20);
  m.vocab = r.integer("vocab", 1, 1 << 24);
  m.max_context_tokens = r.integer("max_context", 1, int64_t{1} << 24);
  std::vector<std::string> dtypes;
  for (const char* const* n = dtype_names(); *n; ++n) dtypes.push_back(*n);
  m.dtype = parse_dtype(r.choice("dtype", dtypes, std::string("bf16")));
  if (m.q_heads % m.kv_heads != 0) {
    throw Error(source_name + ": kv_heads (" + std::to_string(m.kv_heads) + ") must divide q_heads (" +
                std::to_string(m.q_heads) + ")");
  }
  // attention: {pattern: {...}, layers: [{range: "0-3", every: 1, pattern: {...}}, ...]}: overrides on a
  // default, applied in order to layers lo, lo + every, ... <= hi.
  MapReader a = r.map("attention");
  const YAML::Node an = root["attention"];
  const YAML::Node def = pattern_node(an, a, "pattern");
  // Pattern index per layer (yaml-cpp's Node assignment rebinds every handle of a node, so
  // layers hold indices into `patterns`, never Node copies that get assigned).
  std::vector<YAML::Node> patterns = {def};
  std::vector<size_t> per_layer(static_cast<size_t>(m.layers), 0);
  if (a.has("layers")) {
    const YAML::Node list = an["layers"];
    std::vector<MapReader> items = a.map_list("layers");
    for (size_t i = 0; i < items.size(); ++i) {
      const auto [lo, hi] = parse_range(items[i], "range", m.layers);
      const int64_t every = items[i].integer("every", 1, m.layers, 1);
      patterns.push_back(pattern_node(list[i], items[i], "pattern"));
      items[i].finish();
      for (int64_t l = lo; l <= hi; l += every) per_layer[static_cast<size_t>(l)] = patterns.size() - 1;
    }
  }
  a.finish();
  r.finish();
  std::vector<int64_t> kind_of(patterns.size(), -1);  // pattern index -> position in m.attention
  for (size_t idx : per_layer) {
    if (kind_of[idx] < 0) {
      kind_of[idx] = static_cast<int64_t>(m.attention.size());
      m.attention.push_back({patterns[idx], 0});
    }
    ++m.attention[static_cast<size_t>(kind_of[idx])].layer_count;
  }
  return m;
}

ModelSpec load_model_spec(const std::string& path) { return parse_model_spec(load_yaml_file(path), path); }

std::string resolve_model_path(const std::string& name_or_path) {
  return resolve_data_file(name_or_path, "workloads/models", "model");
}

ModelSpec with_pattern(const ModelSpec& m, const YAML::Node& pattern) {
  ModelSpec out = m;
  // A new vector, not element-wise assignment: assigning to a YAML::Node rebinds the node it
  // shares with `m`, which would change m's pattern too.
  out.attention = std::vector<AttentionKind>{AttentionKind{pattern, m.layers}};
  return out;
}

}  // namespace attnsim

#include "models/serving/pattern_mix.h"

#include <algorithm>

#include "models/llm/data_files.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/functional/inputs.h"

namespace attnsim {

std::string PatternClass::describe() const {
  if (own_layers()) return "model";
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e << pattern;
  return e.c_str();
}

int PatternMix::index(const std::string& name) const {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> PatternMix::names() const {
  std::vector<std::string> out;
  for (const PatternClass& c : entries) out.push_back(c.name);
  return out;
}

ModelSpec class_model(const ModelSpec& model, const PatternClass& c) { return c.own_layers() ? model : with_pattern(model, c.pattern); }

void validate_pattern(const YAML::Node& pattern, const ModelSpec& model, const std::string& where) {
  AttentionShape s;
  s.q_heads = model.q_heads;
  s.kv_heads = model.kv_heads;
  s.head_dim = model.head_dim;
  s.q_len = s.kv_len = 64;
  RandomInputs inputs(s, 1);
  PatternContext ctx;
  ctx.shape = s;
  ctx.inputs = &inputs;
  ctx.threads = 1;
  make_pattern(pattern, ctx, where);
}

PatternMix parse_pattern_mix(const std::string& text, const ModelSpec& model) {
  const bool inline_yaml = !text.empty() && (text[0] == '[' || text[0] == '{');
  const std::string where = inline_yaml ? "--pattern-mix" : resolve_data_file(text, "workloads/serving", "mix file");
  const YAML::Node root = inline_yaml ? load_yaml_string(text, where) : load_yaml_file(where);
  if (!root.IsSequence() || root.size() == 0) {
    throw Error(where + ": expected a non-empty list of entries like '[{name: window, share: 0.7, pattern: "
                        "{name: sliding_window, window_tokens: 4096}}, {name: dense, share: 0.3, pattern: model}]'");
  }
  PatternMix mix;
  for (size_t i = 0; i < root.size(); ++i) {
    MapReader r(root[i], where + ": entry " + std::to_string(i));
    for (const char* key : {"name", "share", "pattern"}) r.allow(key);
    r.finish();  // a misspelt key first, with its suggestion, before any "missing" error
    PatternClass c;
    c.name = r.string("name");
    if (c.name.empty() || c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos) {
      r.fail("name", "'" + c.name + "' must be a non-empty word of letters, digits, '_', '.' or '-' (trace CSVs refer to it)");
    }
    if (mix.index(c.name) >= 0) r.fail("name", "'" + c.name + "' names two entries; give each entry its own name");
    c.share = r.number("share", 0.0, 1e9);
    if (!(c.share > 0)) r.fail("share", "must be positive (shares are normalised to their sum)");
    const YAML::Node p = root[i]["pattern"];
    if (!p.IsDefined() || p.IsNull()) {
      r.fail("pattern", "missing required key (a pattern mapping like '{name: causal}', or 'model')");
    } else if (p.IsScalar() && p.Scalar() == "model") {
      // c.pattern stays null: the model's own layers
    } else if (p.IsMap()) {
      c.pattern = p;
      validate_pattern(p, model, where + ": entry " + std::to_string(i) + " (" + c.name + ")");
    } else {
      r.fail("pattern", "expected a pattern mapping like '{name: sliding_window, window_tokens: 4096}' or 'model' (the model's own layers)");
    }
    mix.entries.push_back(c);
  }
  return mix;
}

void assign_patterns(std::vector<Request>& requests, const PatternMix& mix, uint64_t seed) {
  double total = 0;
  for (const PatternClass& c : mix.entries) total += c.share;
  Rng rng(seed ^ 0x7061747465726eULL);  // a stream of its own ("pattern")
  for (Request& r : requests) {
    if (r.pattern >= 0) continue;
    if (mix.entries.empty()) {
      r.pattern = 0;
      continue;
    }
    const double u = rng.uniform() * total;
    double acc = 0;
    r.pattern = static_cast<int>(mix.entries.size()) - 1;  // rounding at the top end
    for (size_t i = 0; i < mix.entries.size(); ++i) {
      acc += mix.entries[i].share;
      if (u < acc) {
        r.pattern = static_cast<int>(i);
        break;
      }
    }
  }
}

}  // namespace attnsim

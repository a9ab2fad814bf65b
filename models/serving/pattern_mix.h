// Per-request attention patterns: a traffic mix of named entries, each a pattern that
// replaces every layer's pattern (or `model`, the model's own layers), drawn per request
// by share (docs/capacity-planning.md, "Serving"). Entries become the pattern classes a
// serving run is costed with; a request carries its class index.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "models/llm/model_spec.h"
#include "models/serving/arrivals.h"

namespace attnsim {

struct PatternClass {
  std::string name;     // the entry's name (trace CSVs refer to it)
  double share = 1;     // of drawn requests, before normalising
  YAML::Node pattern;   // a pattern mapping; anything else (null): the model's own layer patterns
  bool own_layers() const { return !pattern.IsMap(); }
  std::string describe() const;  // "model" or the pattern mapping in flow style
};

// A mix, in file order. Empty: every request uses the model's own patterns (class 0).
struct PatternMix {
  std::vector<PatternClass> entries;
  int index(const std::string& name) const;  // -1 when absent
  std::vector<std::string> names() const;
};

// `text` is an inline YAML list ("[{name: w, share: 0.7, pattern: {...}}, ...]"), a path,
// or a name under workloads/serving/. Entry keys: name, share (> 0), pattern (a mapping or
// `model`). Every pattern is built once at a small shape here, so a bad one fails before
// any simulation. `model` gives the head counts for that check.
PatternMix parse_pattern_mix(const std::string& text, const ModelSpec& model);

// Builds `pattern` once at a small prefill shape (data-dependent ones on random data), so
// an unknown name or a bad parameter is refused before any simulation.
void validate_pattern(const YAML::Node& pattern, const ModelSpec& model, const std::string& where);

// The model as one class sees it: its own layers, or every layer given the class's pattern.
ModelSpec class_model(const ModelSpec& model, const PatternClass& c);

// Draws a class for every request whose `pattern` is negative (Poisson runs, traces
// without a pattern column), from its own seeded stream: arrivals and lengths are the
// same with or without a mix. Requests already carrying a class keep it.
void assign_patterns(std::vector<Request>& requests, const PatternMix& mix, uint64_t seed);

}  // namespace attnsim

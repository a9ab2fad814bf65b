// How irregular a request's attention is, computed from its pattern (the pattern
// registry's row_intervals), for the serving admission rule (docs/capacity-planning.md,
// "Admission rule"). Over the query rows of a prompt, per row either
//   keys            the keys the row attends to, or
//   scattered_keys  those keys that do not fill a whole aligned block of block_tokens keys
//                   (token-level scatter a block-sparse kernel computes whole blocks for);
// the measure is the `quantile`-quantile (nearest rank) over the rows. The rule
// "90% of tokens attend to at most 256 others" is quantile 0.9, max_keys 256.
//
// Cheap and deterministic: the measure is taken at the serving length grid points around
// the prompt length (quarter octaves) and interpolated linearly between them, at most
// kSampledRows rows are read per point (evenly spaced positions, heads round-robin), and
// results are cached per (class, grid length).
// A model class with several layer patterns takes the largest measure of its layers.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/llm/model_spec.h"

namespace attnsim {

struct IrregularityRule {
  std::string measure = "scattered_keys";  // keys | scattered_keys
  double quantile = 0.9;                   // share of query rows that must stay within max_keys
  int64_t max_keys = 256;
  int64_t block_tokens = 64;               // scattered_keys: the block-sparse kernel's key block
};

inline constexpr int64_t kSampledRows = 256;

// The measure over rows at positions [0, length) of one pattern built at that length.
double pattern_irregularity(const YAML::Node& pattern, const ModelSpec& model, int64_t length_tokens,
                            const IrregularityRule& rule);

class IrregularityTable {
 public:
  // One model per pattern class (class_model of each), in class order.
  IrregularityTable(std::vector<ModelSpec> classes, IrregularityRule rule) : classes_(std::move(classes)), rule_(std::move(rule)) {}
  double measure(int pattern_class, int64_t prompt_tokens);
  bool within(int pattern_class, int64_t prompt_tokens) { return measure(pattern_class, prompt_tokens) <= static_cast<double>(rule_.max_keys); }
  const IrregularityRule& rule() const { return rule_; }

 private:
  std::vector<ModelSpec> classes_;
  IrregularityRule rule_;
  std::map<std::pair<int, int64_t>, double> cache_;
};

}  // namespace attnsim

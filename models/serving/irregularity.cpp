#include "models/serving/irregularity.h"

#include <algorithm>
#include <cmath>

#include "models/patterns/i_sparsity_pattern.h"
#include "models/serving/step_table.h"
#include "sim/core/error.h"
#include "sim/functional/inputs.h"

namespace attnsim {

namespace {

// Keys of a row outside whole aligned blocks (intervals sorted and merged).
int64_t scattered(const std::vector<Interval>& iv, int64_t block) {
  int64_t out = 0;
  for (const Interval& x : iv) {
    const int64_t first = (x.begin + block - 1) / block * block, last = x.end / block * block;
    out += (x.end - x.begin) - std::max<int64_t>(0, last - first);
  }
  return out;
}

}  // namespace

double pattern_irregularity(const YAML::Node& pattern, const ModelSpec& model, int64_t length_tokens, const IrregularityRule& rule) {
  if (length_tokens < 1) throw Error("irregularity: the length must be >= 1");
  AttentionShape s;
  s.q_heads = model.q_heads;
  s.kv_heads = model.kv_heads;
  s.head_dim = model.head_dim;
  s.q_len = s.kv_len = length_tokens;
  s.dtype = model.dtype;
  const bool data = PatternRegistry::instance().get(pattern["name"].as<std::string>(), "patterns").data_dependent;
  if (data) s.q_heads = s.kv_heads = 1;  // Q.K scores for every head would cost heads x S^2 x d: one head
  RandomInputs inputs(s, 1);
  PatternContext ctx;
  ctx.shape = s;
  ctx.seed = 1;  // the step model's workloads use seed 1 too: the same pattern instance
  ctx.inputs = &inputs;
  ctx.threads = 1;
  const auto p = make_pattern(pattern, ctx, model.name + ": admission rule");
  const int64_t rows = std::min(length_tokens, kSampledRows);
  std::vector<double> per_row;
  std::vector<Interval> iv;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t pos = rows == length_tokens ? i : (2 * i + 1) * length_tokens / (2 * rows);
    iv.clear();
    p->row_intervals(0, i % s.q_heads, pos, iv);
    normalize_intervals(iv);
    int64_t keys = 0;
    for (const Interval& x : iv) keys += x.end - x.begin;
    per_row.push_back(static_cast<double>(rule.measure == "keys" ? keys : scattered(iv, rule.block_tokens)));
  }
  std::sort(per_row.begin(), per_row.end());
  const double rank = std::ceil(rule.quantile * static_cast<double>(per_row.size())) - 1;
  return per_row[static_cast<size_t>(std::clamp(rank, 0.0, static_cast<double>(per_row.size() - 1)))];
}

double IrregularityTable::measure(int pattern_class, int64_t prompt_tokens) {
  const ModelSpec& m = classes_.at(static_cast<size_t>(std::max(0, pattern_class)));
  auto at = [&](int64_t length) {
    const auto key = std::make_pair(pattern_class, length);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    double worst = 0;
    for (const AttentionKind& k : m.attention) worst = std::max(worst, pattern_irregularity(k.pattern, m, length, rule_));
    return cache_[key] = worst;
  };
  const std::pair<int64_t, int64_t> grid = length_grid(prompt_tokens, 64, m.max_context_tokens);
  if (grid.first == grid.second) return at(grid.first);
  const double w = static_cast<double>(prompt_tokens - grid.first) / static_cast<double>(grid.second - grid.first);
  return at(grid.first) + w * (at(grid.second) - at(grid.first));
}

}  // namespace attnsim

// Top-k attention (data-dependent): each query keeps the k keys with the highest
// scores q.k (ties broken by the lower key index); with causal, only keys
// k <= q_pos compete, and a query with at most k candidates keeps them all.
// Scores are computed once at creation (float32, Eigen) and kept as an exact bit
// mask per (batch, head).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "models/patterns/data_mask.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

class TopK final : public BitMaskPattern {
 public:
  TopK(BitMask mask, int64_t q_offset, int64_t k, bool causal)
      : BitMaskPattern(std::move(mask), q_offset), k_(k), causal_(causal) {}
  std::string describe() const override {
    return "topk(k=" + std::to_string(k_) + (causal_ ? ", causal)" : ", non-causal)");
  }

 private:
  int64_t k_;
  bool causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t keep = r.integer("k", 1, INT64_MAX);
  const bool causal = r.boolean("causal", true);
  const AttentionShape& s = ctx.shape;
  BitMask mask(s.batch, s.q_heads, s.q_len, s.kv_len, "pattern 'topk'");
  const int64_t offset = s.q_offset();
  for_each_score_tile(s, *ctx.inputs, ctx.threads, [&](int64_t b, int64_t h, int64_t q0, int64_t rows, const float* scores) {
    std::vector<float> key_score;
    std::vector<int64_t> index;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = causal ? std::min(offset + q0 + r + 1, s.kv_len) : s.kv_len;
      uint64_t* bits = mask.row(b, h, q0 + r);
      if (n <= keep) {
        BitMask::set_range(bits, 0, n);
        continue;
      }
      // NaN never wins: it ranks below every number, keeping the order strict-weak.
      const float* row_scores = scores + r * s.kv_len;
      key_score.assign(row_scores, row_scores + n);
      for (float& x : key_score) {
        if (std::isnan(x)) x = -std::numeric_limits<float>::infinity();
      }
      index.resize(static_cast<size_t>(n));
      std::iota(index.begin(), index.end(), int64_t{0});
      auto better = [&](int64_t a, int64_t c) {
        const float sa = key_score[static_cast<size_t>(a)], sc = key_score[static_cast<size_t>(c)];
        return sa > sc || (sa == sc && a < c);
      };
      std::nth_element(index.begin(), index.begin() + (keep - 1), index.end(), better);
      for (int64_t j = 0; j < keep; ++j) BitMask::set(bits, index[static_cast<size_t>(j)]);
    }
  });
  return std::make_unique<TopK>(std::move(mask), offset, keep, causal);
}

const Registrar<PatternEntry> kRegister(
    "topk",
    PatternEntry{"data-dependent: each query keeps its k highest-scoring keys (ties: lower index); exact element mask",
                 {{"k", "integer", "", "keys kept per query"},
                  {"causal", "bool", "true", "only keys k <= q_pos compete (fewer than k candidates: keep all)"}},
                 true,
                 create});

}  // namespace
}  // namespace attnsim

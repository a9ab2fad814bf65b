// ReLU attention (data-dependent): key k is allowed for query q iff the score q.k > 0,
// since non-positive scores contribute nothing after the ReLU; optionally causal
// (k <= q_pos). Scores are computed once at creation from the workload's Q/K inputs
// (float32, Eigen) and kept as an exact bit mask per (batch, head).
#include "models/patterns/data_mask.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

class Relu final : public BitMaskPattern {
 public:
  Relu(BitMask mask, int64_t q_offset, bool causal) : BitMaskPattern(std::move(mask), q_offset), causal_(causal) {}
  std::string describe() const override { return std::string("relu(") + (causal_ ? "causal" : "non-causal") + ")"; }

 private:
  bool causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const bool causal = r.boolean("causal", true);
  const AttentionShape& s = ctx.shape;
  BitMask mask(s.batch, s.q_heads, s.q_len, s.kv_len, "pattern 'relu'");
  const int64_t offset = s.q_offset();
  for_each_score_tile(s, *ctx.inputs, ctx.threads, [&](int64_t b, int64_t h, int64_t q0, int64_t rows, const float* scores) {
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t limit = causal ? std::min(offset + q0 + r + 1, s.kv_len) : s.kv_len;
      const float* row_scores = scores + r * s.kv_len;
      uint64_t* bits = mask.row(b, h, q0 + r);
      for (int64_t k = 0; k < limit; ++k) {
        if (row_scores[k] > 0.0f) BitMask::set(bits, k);
      }
    }
  });
  return std::make_unique<Relu>(std::move(mask), offset, causal);
}

const Registrar<PatternEntry> kRegister(
    "relu", PatternEntry{"data-dependent: key k is kept iff the score q.k > 0 (ReLU attention); exact element mask",
                         {{"causal", "bool", "true", "also drop keys after the query (k > q_pos)"}},
                         true,
                         create});

}  // namespace
}  // namespace attnsim

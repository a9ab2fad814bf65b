// Strided attention (Sparse Transformer, Child et al. 2019), causal: query q sees key k
// iff k <= q and ((q - k) < stride or (q - k) mod stride == 0), i.e. the previous
// `stride` keys plus every stride-th key before them.
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class Strided final : public ISparsityPattern {
 public:
  Strided(int64_t kv_len, int64_t stride) : kv_len_(kv_len), stride_(stride) {}

  void row_intervals(int64_t, int64_t, int64_t q, std::vector<Interval>& out) const override {
    if (stride_ == 1 || q < stride_) {
      push_interval(out, 0, q + 1, kv_len_);
      return;
    }
    // Keys q - m*stride for m >= 2 are isolated; q - stride joins the local run.
    for (int64_t k = q % stride_; k < q - stride_; k += stride_) out.push_back({k, k + 1});
    push_interval(out, q - stride_, q + 1, kv_len_);
  }
  std::string describe() const override { return "strided(stride_tokens=" + std::to_string(stride_) + ")"; }

 private:
  int64_t kv_len_, stride_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  return std::make_unique<Strided>(ctx.shape.kv_len, r.integer("stride_tokens", 1, INT64_MAX));
}

const Registrar<PatternEntry> kRegister(
    "strided",
    PatternEntry{"Sparse Transformer strided, causal: k <= q and (q-k < stride or (q-k) mod stride == 0)",
                 {{"stride_tokens", "integer", "", "stride s in tokens: local run of s keys, then every s-th key"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

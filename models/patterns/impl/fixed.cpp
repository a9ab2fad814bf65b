// Fixed attention (Sparse Transformer, Child et al. 2019), causal: query q sees key k
// iff k <= q and (k / stride == q / stride or k mod stride >= stride - summary): its
// own stride-long block up to itself plus the last `summary` keys of every earlier block.
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class Fixed final : public ISparsityPattern {
 public:
  Fixed(int64_t kv_len, int64_t stride, int64_t summary) : kv_len_(kv_len), stride_(stride), summary_(summary) {}

  void row_intervals(int64_t, int64_t, int64_t q, std::vector<Interval>& out) const override {
    const int64_t own = (q / stride_) * stride_;
    if (summary_ == stride_ || own == 0) {
      push_interval(out, 0, q + 1, kv_len_);
      return;
    }
    // Summaries of blocks before the previous one are isolated runs; the previous
    // block's summary ends where the query's own block begins, so they join.
    for (int64_t start = stride_ - summary_; start + summary_ < own; start += stride_) {
      out.push_back({start, start + summary_});
    }
    push_interval(out, own - summary_, q + 1, kv_len_);
  }
  std::string describe() const override {
    return "fixed(stride_tokens=" + std::to_string(stride_) + ", summary_tokens=" + std::to_string(summary_) + ")";
  }

 private:
  int64_t kv_len_, stride_, summary_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t stride = r.integer("stride_tokens", 1, INT64_MAX);
  const int64_t summary = r.integer("summary_tokens", 1, stride, 1);
  return std::make_unique<Fixed>(ctx.shape.kv_len, stride, summary);
}

const Registrar<PatternEntry> kRegister(
    "fixed",
    PatternEntry{"Sparse Transformer fixed, causal: own stride block plus the last c keys of every earlier block",
                 {{"stride_tokens", "integer", "", "block length s in tokens"},
                  {"summary_tokens", "integer", "1", "c: summary keys at the end of each block (1 <= c <= s)"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

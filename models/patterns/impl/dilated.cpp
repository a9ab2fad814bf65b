// Dilated sliding window: of the keys in the window (causal: q - w < k <= q;
// symmetric: |q - k| <= w/2), only those with (q - k) mod d == 0 are kept.
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class Dilated final : public ISparsityPattern {
 public:
  Dilated(int64_t kv_len, int64_t window, int64_t dilation, bool causal)
      : kv_len_(kv_len), window_(window), dilation_(dilation), causal_(causal) {}

  void row_intervals(int64_t, int64_t, int64_t q, std::vector<Interval>& out) const override {
    const int64_t back = causal_ ? window_ - 1 : window_ / 2;  // farthest distance to the left
    const int64_t ahead = causal_ ? 0 : window_ / 2;           // and to the right
    if (dilation_ == 1) {
      push_interval(out, q - back, q + ahead + 1, kv_len_);
      return;
    }
    const int64_t first = q - std::min(back, q) / dilation_ * dilation_;
    const int64_t last = std::min(q + ahead, kv_len_ - 1);
    for (int64_t k = first; k <= last; k += dilation_) out.push_back({k, k + 1});
  }
  std::string describe() const override {
    return "dilated(window_tokens=" + std::to_string(window_) + ", dilation=" + std::to_string(dilation_) +
           (causal_ ? ", causal)" : ", symmetric)");
  }

 private:
  int64_t kv_len_, window_, dilation_;
  bool causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t window = r.integer("window_tokens", 1, INT64_MAX);
  const int64_t dilation = r.integer("dilation", 1, INT64_MAX);
  const bool causal = r.boolean("causal", true);
  return std::make_unique<Dilated>(ctx.shape.kv_len, window, dilation, causal);
}

const Registrar<PatternEntry> kRegister(
    "dilated",
    PatternEntry{"dilated window: keys in the window (causal (q-w, q], or [q-w/2, q+w/2]) with (q-k) mod d == 0",
                 {{"window_tokens", "integer", "", "window width w in tokens (causal: w positions including self)"},
                  {"dilation", "integer", "", "d: keep every d-th key counted back from the query (1 = no gaps)"},
                  {"causal", "bool", "true", "causal window; false = symmetric around the query"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

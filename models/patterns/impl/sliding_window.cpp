// Local attention: causal keys (p - window, p], or symmetric keys [p - window/2, p + window/2].
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class SlidingWindow final : public ISparsityPattern {
 public:
  SlidingWindow(int64_t kv_len, int64_t window, bool causal) : kv_len_(kv_len), window_(window), causal_(causal) {}
  void row_intervals(int64_t, int64_t, int64_t q_pos, std::vector<Interval>& out) const override {
    if (causal_) {
      push_interval(out, q_pos - window_ + 1, q_pos + 1, kv_len_);
    } else {
      push_interval(out, q_pos - window_ / 2, q_pos + window_ / 2 + 1, kv_len_);
    }
  }
  std::string describe() const override {
    return "sliding_window(window_tokens=" + std::to_string(window_) + (causal_ ? ", causal)" : ", symmetric)");
  }

 private:
  int64_t kv_len_, window_;
  bool causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t window = r.integer("window_tokens", 1, INT64_MAX);
  const bool causal = r.boolean("causal", true);
  return std::make_unique<SlidingWindow>(ctx.shape.kv_len, window, causal);
}

const Registrar<PatternEntry> kRegister(
    "sliding_window",
    PatternEntry{"local window: causal keys (p-w, p] or symmetric keys [p-w/2, p+w/2]",
                 {{"window_tokens", "integer", "", "window width w in tokens (causal: w keys including self)"},
                  {"causal", "bool", "true", "causal window; false = symmetric around the query"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

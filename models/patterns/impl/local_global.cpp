// Longformer / Mistral-style local + global attention. A query at position p sees its
// sliding window (causal: keys (p - w, p]; symmetric: keys [p - w/2, p + w/2]) plus the
// first G positions, which are global: every query attends to them, and a global query
// (p < G) attends to every key (with causal, every key <= p).
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class LocalGlobal final : public ISparsityPattern {
 public:
  LocalGlobal(int64_t kv_len, int64_t window, int64_t global, bool causal)
      : kv_len_(kv_len), window_(window), global_(global), causal_(causal) {}

  void row_intervals(int64_t, int64_t, int64_t q_pos, std::vector<Interval>& out) const override {
    if (q_pos < global_) {
      push_interval(out, 0, causal_ ? q_pos + 1 : kv_len_, kv_len_);
      return;
    }
    const int64_t lo = causal_ ? q_pos - window_ + 1 : q_pos - window_ / 2;
    const int64_t hi = causal_ ? q_pos + 1 : q_pos + window_ / 2 + 1;
    if (lo <= global_) {
      push_interval(out, 0, hi, kv_len_);  // the window touches the global prefix: one run
    } else {
      push_interval(out, 0, global_, kv_len_);
      push_interval(out, lo, hi, kv_len_);
    }
  }
  std::string describe() const override {
    return "local_global(window_tokens=" + std::to_string(window_) + ", global_tokens=" + std::to_string(global_) +
           (causal_ ? ", causal)" : ", symmetric)");
  }

 private:
  int64_t kv_len_, window_, global_;
  bool causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t window = r.integer("window_tokens", 1, INT64_MAX);
  const int64_t global = r.integer("global_tokens", 0, INT64_MAX);
  const bool causal = r.boolean("causal", true);
  return std::make_unique<LocalGlobal>(ctx.shape.kv_len, window, global, causal);
}

const Registrar<PatternEntry> kRegister(
    "local_global",
    PatternEntry{"sliding window plus G global tokens (Longformer): all queries see keys < G, queries < G see all",
                 {{"window_tokens", "integer", "", "window width w in tokens (causal: w keys including self)"},
                  {"global_tokens", "integer", "", "G: positions 0..G-1 are global (0 = plain sliding window)"},
                  {"causal", "bool", "true", "causal window and global rows; false = symmetric window"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

// Query at absolute position p attends to keys 0..p (bottom-right aligned when
// q_len < kv_len, as in decode and chunked prefill).
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class Causal final : public ISparsityPattern {
 public:
  explicit Causal(int64_t kv_len) : kv_len_(kv_len) {}
  void row_intervals(int64_t, int64_t, int64_t q_pos, std::vector<Interval>& out) const override {
    push_interval(out, 0, q_pos + 1, kv_len_);
  }
  std::string describe() const override { return "causal"; }

 private:
  int64_t kv_len_;
};

std::unique_ptr<ISparsityPattern> create(MapReader&, const PatternContext& ctx) {
  return std::make_unique<Causal>(ctx.shape.kv_len);
}

const Registrar<PatternEntry> kRegister("causal", PatternEntry{"each query attends to itself and all earlier keys",
                                                                {}, false, create});

}  // namespace
}  // namespace attnsim

// Every query attends to every key.
#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class Dense final : public ISparsityPattern {
 public:
  explicit Dense(int64_t kv_len) : kv_len_(kv_len) {}
  void row_intervals(int64_t, int64_t, int64_t, std::vector<Interval>& out) const override {
    out.push_back({0, kv_len_});
  }
  std::string describe() const override { return "dense"; }

 private:
  int64_t kv_len_;
};

std::unique_ptr<ISparsityPattern> create(MapReader&, const PatternContext& ctx) {
  return std::make_unique<Dense>(ctx.shape.kv_len);
}

const Registrar<PatternEntry> kRegister("dense", PatternEntry{"every query attends to every key", {}, false, create});

}  // namespace
}  // namespace attnsim

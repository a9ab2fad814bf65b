// Block-diagonal (packed documents): several documents share one sequence and a query
// only sees keys of its own document (with causal, only those up to itself). The
// document lengths repeat cyclically until kv_len is covered; the last one is cut short.
#include <algorithm>

#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {
namespace {

class BlockDiagonal final : public ISparsityPattern {
 public:
  BlockDiagonal(int64_t kv_len, std::vector<int64_t> lengths, bool causal)
      : kv_len_(kv_len), lengths_(std::move(lengths)), causal_(causal) {
    for (int64_t pos = 0, i = 0; pos < kv_len_;
         pos += std::min(lengths_[static_cast<size_t>(i)], kv_len_), i = (i + 1) % size()) {
      starts_.push_back(pos);
    }
    starts_.push_back(kv_len_);
  }

  void row_intervals(int64_t, int64_t, int64_t q, std::vector<Interval>& out) const override {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), q);  // first start after q
    push_interval(out, *(it - 1), causal_ ? q + 1 : *it, kv_len_);
  }
  std::string describe() const override {
    std::string s = "block_diagonal(doc_lengths_tokens=[";
    for (size_t i = 0; i < lengths_.size(); ++i) s += (i ? ", " : "") + std::to_string(lengths_[i]);
    return s + (causal_ ? "], causal)" : "], non-causal)");
  }

 private:
  int64_t size() const { return static_cast<int64_t>(lengths_.size()); }

  int64_t kv_len_;
  std::vector<int64_t> lengths_;
  bool causal_;
  std::vector<int64_t> starts_;  // document start positions, then kv_len
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  std::vector<int64_t> lengths = r.integer_list("doc_lengths_tokens", 1, INT64_MAX);
  const bool causal = r.boolean("causal", true);
  return std::make_unique<BlockDiagonal>(ctx.shape.kv_len, std::move(lengths), causal);
}

const Registrar<PatternEntry> kRegister(
    "block_diagonal",
    PatternEntry{"packed documents: a query attends only within its own document",
                 {{"doc_lengths_tokens", "integer list", "",
                   "document lengths in tokens, repeated cyclically until kv_len is covered (last one truncated)"},
                  {"causal", "bool", "true", "also drop keys after the query"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

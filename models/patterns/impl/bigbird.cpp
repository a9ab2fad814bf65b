// BigBird (Zaheer et al. 2020) at its own block granularity b = block_tokens. Blocks
// are counted from absolute position 0 (query block i holds positions [i*b, (i+1)*b)).
// Query block row i attends to
//   - the window blocks [i - w/2, i + w/2]          (w = window_blocks, odd),
//   - the first g global blocks [0, g)              (g = global_blocks),
//   - r random blocks (r = random_blocks), distinct and chosen among the blocks not
//     already selected (fewer only when fewer are left), seeded per (seed, head, i);
// and the queries of global blocks (i < g) attend to every block. With causal, keys
// after the query are dropped, and random blocks are drawn only among blocks <= i.
#include <algorithm>
#include <atomic>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

constexpr uint32_t kNone = UINT32_MAX;

class BigBird final : public ISparsityPattern {
 public:
  BigBird(const AttentionShape& s, uint64_t seed, int64_t block, int64_t window, int64_t global, int64_t random,
          bool causal)
      : kv_len_(s.kv_len), heads_(s.q_heads), block_(block), window_(window), global_(global), random_(random),
        causal_(causal), seed_(seed), instance_(next_instance()) {
    blocks_ = (kv_len_ + block_ - 1) / block_;
    random_ = std::min(random_, blocks_);  // never more than there are blocks
    first_row_ = s.q_offset() / block_;
  }

  void row_intervals(int64_t, int64_t head, int64_t q_pos, std::vector<Interval>& out) const override {
    const int64_t i = q_pos / block_;
    const int64_t end = causal_ ? q_pos + 1 : kv_len_;
    if (i < global_) {
      push_interval(out, 0, end, kv_len_);
      return;
    }
    std::vector<int64_t> chosen;  // selected blocks, then merged into runs
    const int64_t lo = std::max<int64_t>(0, i - window_ / 2), hi = std::min(blocks_ - 1, i + window_ / 2);
    for (int64_t kb = 0; kb < std::min(global_, blocks_); ++kb) chosen.push_back(kb);
    for (int64_t kb = std::max(lo, global_); kb <= hi; ++kb) chosen.push_back(kb);
    const uint32_t* p = row_picks(head, i);
    for (int64_t j = 0; j < random_ && p[j] != kNone; ++j) chosen.push_back(p[j]);
    std::sort(chosen.begin(), chosen.end());
    const size_t first = out.size();
    for (int64_t kb : chosen) {
      const int64_t b = kb * block_, e = std::min((kb + 1) * block_, end);
      if (b >= e) break;
      if (out.size() > first && out.back().end == b) {
        out.back().end = e;
      } else {
        out.push_back({b, e});
      }
    }
  }
  bool head_invariant() const override { return random_ == 0; }
  std::string describe() const override {
    return "bigbird(block_tokens=" + std::to_string(block_) + ", window_blocks=" + std::to_string(window_) +
           ", global_blocks=" + std::to_string(global_) + ", random_blocks=" + std::to_string(random_) +
           (causal_ ? ", causal)" : ")");
  }

 private:
  // The random blocks of (head, block row i), drawn on demand: a table of every row's picks
  // (heads x rows x r) reached tens of GB at long context and large r. A head's queries come
  // in runs of one block row, so each thread keeps the last row it drew per head.
  const uint32_t* row_picks(int64_t head, int64_t i) const {
    static const uint32_t none[1] = {kNone};
    if (random_ == 0 || i < first_row_) return none;
    struct LastRows {
      uint64_t instance = 0;       // 0: nothing drawn yet (instances count from 1)
      std::vector<int64_t> row;    // per head, -1 = none
      std::vector<uint32_t> picks; // [head][random_]
    };
    thread_local LastRows last;
    if (last.instance != instance_) {
      last.instance = instance_;
      last.row.assign(static_cast<size_t>(heads_), -1);
      last.picks.assign(static_cast<size_t>(heads_ * random_), kNone);
    }
    uint32_t* picks = last.picks.data() + head * random_;
    if (last.row[static_cast<size_t>(head)] != i) {
      std::fill(picks, picks + random_, kNone);
      const uint64_t key =
          mix64(mix64(mix64(seed_ ^ 0xb16b12dULL) ^ static_cast<uint64_t>(head)) ^ static_cast<uint64_t>(i));
      choose(i, key, picks);
      last.row[static_cast<size_t>(head)] = i;
    }
    return picks;
  }
  // Tells apart patterns that reuse a freed one's address, for the per-thread row above.
  static uint64_t next_instance() {
    static std::atomic<uint64_t> counter{0};
    return ++counter;
  }
  bool fixed(int64_t i, int64_t kb) const { return kb < global_ || (kb >= i - window_ / 2 && kb <= i + window_ / 2); }

  // Writes up to random_ distinct random blocks for block row i (global rows need none).
  void choose(int64_t i, uint64_t key, uint32_t* out) const {
    if (i < global_ || random_ == 0) return;
    const int64_t limit = causal_ ? i + 1 : blocks_;  // candidates are blocks [0, limit)
    // Window and global blocks among the candidates: [0, g) united with [lo, hi].
    const int64_t g = std::min(global_, limit);
    const int64_t lo = std::max(g, i - window_ / 2), hi = std::min(limit - 1, i + window_ / 2);
    const int64_t free = limit - g - std::max<int64_t>(0, hi - lo + 1), want = std::min(random_, free);
    if (free <= 4 * want + 16) {
      // Few candidates: list them and draw without replacement (partial Fisher-Yates).
      std::vector<uint32_t> cand;
      for (int64_t kb = 0; kb < limit; ++kb) {
        if (!fixed(i, kb)) cand.push_back(static_cast<uint32_t>(kb));
      }
      for (int64_t j = 0; j < want; ++j) {
        const int64_t pick =
            j + static_cast<int64_t>(mix64(key + static_cast<uint64_t>(j)) % static_cast<uint64_t>(free - j));
        std::swap(cand[static_cast<size_t>(j)], cand[static_cast<size_t>(pick)]);
        out[j] = cand[static_cast<size_t>(j)];
      }
      return;
    }
    // Many candidates: rejection sampling over [0, limit); terminates since free > want.
    int64_t n = 0;
    for (uint64_t counter = 0; n < want; ++counter) {
      const auto kb = static_cast<uint32_t>(mix64(key + counter) % static_cast<uint64_t>(limit));
      if (fixed(i, kb) || std::find(out, out + n, kb) != out + n) continue;
      out[n++] = kb;
    }
  }

  int64_t kv_len_, heads_, block_, window_, global_, random_;
  bool causal_;
  uint64_t seed_;
  uint64_t instance_;
  int64_t blocks_ = 0, first_row_ = 0;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const int64_t block = r.integer("block_tokens", 1, int64_t{1} << 40, 64);
  const int64_t window = r.integer("window_blocks", 1, INT64_MAX, 3);
  if (window % 2 == 0)
    r.fail("window_blocks", "must be odd (the window is centred on the query block), got " + std::to_string(window) +
                                "; use " + std::to_string(window + 1));
  const int64_t global = r.integer("global_blocks", 0, INT64_MAX, 2);
  const int64_t random = r.integer("random_blocks", 0, INT64_MAX, 3);
  const bool causal = r.boolean("causal", false);
  return std::make_unique<BigBird>(ctx.shape, ctx.seed, block, window, global, random, causal);
}

const Registrar<PatternEntry> kRegister(
    "bigbird",
    PatternEntry{"BigBird: window + global + seeded random blocks per (head, block row); global rows see all",
                 {{"block_tokens", "integer", "64", "BigBird block size in tokens"},
                  {"window_blocks", "integer", "3", "w (odd): block row i sees blocks [i - w/2, i + w/2]"},
                  {"global_blocks", "integer", "2", "g: the first g blocks are global (seen by all, see all)"},
                  {"random_blocks", "integer", "3", "r: random extra blocks per (head, block row), seeded"},
                  {"causal", "bool", "false", "drop keys after the query; random blocks drawn among blocks <= row"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

// Synthetic token-level top-k selection with controlled clustering, for studying
// gather hardware (docs/patterns.md, docs/sparsecore.md). Keys are cut into aligned
// runs of c = cluster_tokens; queries into aligned groups of query_group_tokens
// positions that share one selection. Each (group, head) keeps every run
// independently with probability `density` (rounded to a multiple of 2^-16), so
// c = 1 is scattered single tokens and c = a kernel's block size (with queries
// grouped the same) is block-aligned, like random_block.
//
// A selection is a bitset over runs, 64 runs per word, each bit set with probability
// p = 0.b1..b16 by folding random words from the least significant bit of p up
// (x = b ? x | r : x & r), so its cost does not grow with the density; block masks
// are classified on whole words (OR and AND of the rows' bitsets per KV block).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

constexpr int kDensityBits = 16;

using Words = std::vector<uint64_t>;

class ClusteredTopk final : public ISparsityPattern {
 public:
  ClusteredTopk(int64_t kv_len, uint64_t seed, double density, int64_t cluster, int64_t group, bool per_head,
                bool causal)
      : kv_len_(kv_len), seed_(mix64(seed ^ 0x70b4c1a5ULL)), density_(density), cluster_(cluster), group_(group),
        per_head_(per_head), causal_(causal) {
    p_bits_ = static_cast<uint32_t>(std::lround(std::min(1.0, density) * (1 << kDensityBits)));
    runs_ = (kv_len_ + cluster_ - 1) / cluster_;
  }

  void row_intervals(int64_t, int64_t head, int64_t q_pos, std::vector<Interval>& out) const override {
    const Words runs = selection(head, q_pos / group_);
    const int64_t limit = causal_ ? q_pos + 1 : kv_len_;
    const size_t first = out.size();
    for (size_t w = 0; w < runs.size(); ++w) {
      for (uint64_t bits = runs[w]; bits; bits &= bits - 1) {
        const int64_t j = static_cast<int64_t>(w) * 64 + __builtin_ctzll(bits);
        const int64_t b = j * cluster_, e = std::min((j + 1) * cluster_, limit);
        if (b >= e) return;
        if (out.size() > first && out.back().end == b) out.back().end = e;
        else out.push_back({b, e});
      }
    }
  }
  bool head_invariant() const override { return !per_head_ || p_bits_ >= (1u << kDensityBits); }

  // Exact, on words: per row the OR (some query keeps the key) and AND (all keep it) of
  // the rows' token bitsets; a block is computed when its OR has a bit, full when its AND
  // has them all.
  BlockMask block_mask(const BlockGeometry& g) const override {
    const int64_t mh = head_invariant() ? 1 : g.heads;
    BlockMask mask(g, 1, mh);
    const int64_t kv_blocks = g.kv_blocks();  // hoisted: the append calls keep the compiler from it
    const size_t words = static_cast<size_t>((kv_len_ + 63) / 64);
    Words any(words), all(words), tokens;
    double pairs = 0;
    for (int64_t h = 0; h < mh; ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        std::fill(any.begin(), any.end(), 0);
        std::fill(all.begin(), all.end(), ~uint64_t{0});
        const int64_t qa = g.q_offset + qb * g.q_block, qz = qa + g.q_rows_in(qb);
        int64_t cached = -1;
        for (int64_t q = qa; q < qz; ++q) {
          if (q / group_ != cached) {
            cached = q / group_;
            tokens = token_bits(selection(h, cached));
          }
          const int64_t limit = causal_ ? q + 1 : kv_len_;
          for (size_t w = 0; w < words; ++w) {
            const int64_t lo = static_cast<int64_t>(w) * 64;
            const uint64_t keep = limit >= lo + 64 ? ~uint64_t{0} : limit <= lo ? 0 : (uint64_t{1} << (limit - lo)) - 1;
            const uint64_t t = tokens[w] & keep;
            any[w] |= t;
            all[w] &= t;
            pairs += __builtin_popcountll(t);
          }
        }
        for (int64_t kb = 0; kb < kv_blocks; ++kb) {
          const int64_t a = kb * g.kv_block, z = std::min(kv_len_, a + g.kv_block);
          bool touched = false, full = true;
          for (int64_t w = a / 64; w <= (z - 1) / 64; ++w) {
            const int64_t lo = std::max(a, w * 64) - w * 64, hi = std::min(z, w * 64 + 64) - w * 64;
            const uint64_t m = (hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1) & ~((uint64_t{1} << lo) - 1);
            touched |= (any[static_cast<size_t>(w)] & m) != 0;
            full &= (all[static_cast<size_t>(w)] & m) == m;
          }
          if (touched) mask.append(static_cast<uint32_t>(kb), !full);
        }
        mask.end_row();
      }
    }
    mask.set_allowed_pairs(pairs);
    return mask;
  }

  std::string describe() const override {
    char d[32];
    std::snprintf(d, sizeof d, "%g", density_);
    return std::string("clustered_topk(density=") + d + ", cluster_tokens=" + std::to_string(cluster_) +
           ", query_group_tokens=" + std::to_string(group_) + (per_head_ ? ", per_head" : "") +
           (causal_ ? ", causal)" : ")");
  }

 private:
  // The runs kept by one (head, query group): a bitset of runs_ bits. Causal groups draw
  // among the runs starting at or before their first query.
  Words selection(int64_t head, int64_t grp) const {
    const uint64_t base = mix64(mix64(seed_ ^ static_cast<uint64_t>(per_head_ ? head : 0)) ^ static_cast<uint64_t>(grp));
    const int64_t candidates = causal_ ? std::min(grp * group_, kv_len_ - 1) / cluster_ + 1 : runs_;
    Words out(static_cast<size_t>((runs_ + 63) / 64), 0);
    bool any = false;
    for (size_t w = 0; static_cast<int64_t>(w) * 64 < candidates; ++w) {
      uint64_t x = 0;
      if (p_bits_ >= (1u << kDensityBits)) {
        x = ~uint64_t{0};
      } else {
        const int low = p_bits_ ? __builtin_ctz(p_bits_) : kDensityBits;
        for (int b = low; b < kDensityBits; ++b) {
          const uint64_t r = mix64(base + w * 32 + static_cast<uint64_t>(b) + 1);
          x = (p_bits_ >> b) & 1 ? (x | r) : (x & r);
        }
      }
      const int64_t left = candidates - static_cast<int64_t>(w) * 64;
      if (left < 64) x &= (uint64_t{1} << left) - 1;
      out[w] = x;
      any |= x != 0;
    }
    // Every query keeps at least one run (a top-k keeps k >= 1 keys).
    if (!any) {
      const uint64_t j = mix64(base ^ 0x9e37ULL) % static_cast<uint64_t>(candidates);
      out[j / 64] |= uint64_t{1} << (j % 64);
    }
    return out;
  }

  // Run bits -> token bits (kv_len bits).
  Words token_bits(const Words& runs) const {
    if (cluster_ == 1) return runs;
    Words t(static_cast<size_t>((kv_len_ + 63) / 64), 0);
    for (size_t w = 0; w < runs.size(); ++w) {
      for (uint64_t bits = runs[w]; bits; bits &= bits - 1) {
        const int64_t j = static_cast<int64_t>(w) * 64 + __builtin_ctzll(bits);
        for (int64_t k = j * cluster_, e = std::min(kv_len_, (j + 1) * cluster_); k < e;) {
          const int64_t lo = k % 64, n = std::min<int64_t>(64 - lo, e - k);
          t[static_cast<size_t>(k / 64)] |= (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << lo;
          k += n;
        }
      }
    }
    return t;
  }

  int64_t kv_len_;
  uint64_t seed_;
  double density_;
  int64_t cluster_, group_;
  bool per_head_, causal_;
  uint32_t p_bits_ = 0;
  int64_t runs_ = 0;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const double density = r.number("density", 0.0, 1.0);
  if (!(density >= 1.0 / (1 << kDensityBits))) {
    r.fail("density", "must be at least 2^-16 (a selection that keeps nothing); use a value in (0, 1]");
  }
  const int64_t cluster = r.integer("cluster_tokens", 1, int64_t{1} << 24, 1);
  const int64_t group = r.integer("query_group_tokens", 1, int64_t{1} << 24, cluster);
  const bool per_head = r.boolean("per_head", false);
  const bool causal = r.boolean("causal", false);
  return std::make_unique<ClusteredTopk>(ctx.shape.kv_len, ctx.seed, density, cluster, group, per_head, causal);
}

const Registrar<PatternEntry> kRegister(
    "clustered_topk",
    PatternEntry{"synthetic top-k: each query group keeps aligned runs of cluster_tokens keys with probability density",
                 {{"density", "number", "", "share 2^-16 <= p <= 1 of the (candidate) keys each query keeps, in expectation"},
                  {"cluster_tokens", "integer", "1", "run length c of selected keys, aligned to multiples of c (1 = scattered)"},
                  {"query_group_tokens", "integer", "cluster_tokens", "aligned query positions sharing one selection"},
                  {"per_head", "bool", "false", "draw a selection per query head (false: shared by all heads, as an indexer does)"},
                  {"causal", "bool", "false", "only runs starting at or before the query group compete; keys after the query dropped"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

// Seeded random block-sparse attention. Positions are cut into blocks of b = block_tokens
// counted from absolute position 0; the block pair (query block i, key block j) of head h
// is kept iff u(seed, h, i, j) < density, u a uniform in [0, 1) from a counter-based hash
// (so any block can be asked independently, on any thread). include_diagonal always
// keeps j == i, the block holding the query's own position; with causal, keys after the
// query are dropped (so blocks j > i never count).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

class RandomBlock final : public ISparsityPattern {
 public:
  RandomBlock(int64_t kv_len, uint64_t seed, double density, int64_t block, bool diagonal, bool causal)
      : kv_len_(kv_len),
        seed_(mix64(seed ^ 0x5eed0b10c4ULL)),
        density_(density),
        // u = (hash >> 11) / 2^53 < density  <=>  hash >> 11 < ceil(density * 2^53), exactly
        // (both sides are integers below 2^53): an integer compare in the hot loop.
        threshold_(static_cast<uint64_t>(std::ceil(density * 0x1.0p53))),
        block_(block),
        diagonal_(diagonal),
        causal_(causal) {}

  // The hash of query block i of `head`, shared by all its key blocks.
  uint64_t row_key(int64_t head, int64_t i) const {
    return mix64(mix64(seed_ ^ static_cast<uint64_t>(head)) ^ static_cast<uint64_t>(i));
  }
  // Key block j of a row whose hash is `row`: kept when it is the row's diagonal block
  // (`diagonal_j`, -1 for none) or its uniform falls under the density.
  static bool kept(uint64_t row, int64_t j, int64_t diagonal_j, uint64_t threshold) {
    return j == diagonal_j || (mix64(row ^ static_cast<uint64_t>(j)) >> 11) < threshold;
  }

  void row_intervals(int64_t, int64_t head, int64_t q_pos, std::vector<Interval>& out) const override {
    const int64_t i = q_pos / block_;
    const int64_t end = causal_ ? q_pos + 1 : kv_len_;
    const int64_t last = (end - 1) / block_;
    const size_t first = out.size();
    const uint64_t row = row_key(head, i);
    for (int64_t j = 0; j <= last; ++j) {
      if (!kept(row, j, diagonal_ ? i : -1, threshold_)) continue;
      const int64_t b = j * block_, e = std::min((j + 1) * block_, end);
      if (out.size() > first && out.back().end == b) {
        out.back().end = e;
      } else {
        out.push_back({b, e});
      }
    }
  }
  bool head_invariant() const override { return density_ >= 1.0; }

  // Direct classification at any geometry: each geometry block is cut along this
  // pattern's block edges and the allowed pairs of every kept piece are counted, so
  // only the kept flags of overlapping block pairs are hashed (no per-row scans).
  BlockMask block_mask(const BlockGeometry& g) const override {
    const int64_t mh = head_invariant() ? 1 : g.heads;
    BlockMask mask(g, 1, mh);
    std::vector<int64_t> count(static_cast<size_t>(g.kv_blocks()), 0);
    std::vector<int64_t> touched;  // key blocks with a count, so a row's scan costs its kept blocks
    double pairs = 0;
    for (int64_t h = 0; h < mh; ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        const int64_t qa = g.q_offset + qb * g.q_block, qz = qa + g.q_rows_in(qb);  // query positions [qa, qz)
        int64_t pieces = 0;  // pattern rows in this query block: one unless the blocks differ
        for (int64_t i = qa / block_; i * block_ < qz; ++i, ++pieces) {
          const int64_t r0 = std::max(qa, i * block_), r1 = std::min(qz, (i + 1) * block_);
          const int64_t kend = causal_ ? std::min(r1, kv_len_) : kv_len_;  // keys >= kend are never allowed
          const uint64_t row = row_key(h, i);
          // Members read once into locals: stores into `count` would otherwise make the
          // compiler reload them for each of the row's key blocks.
          const uint64_t threshold = threshold_;
          const int64_t diagonal = diagonal_ ? i : -1, key_blocks = (kend + block_ - 1) / block_;
          for (int64_t j = 0; j < key_blocks; ++j) {
            if (!kept(row, j, diagonal, threshold)) continue;
            const int64_t c0 = j * block_, c1 = std::min((j + 1) * block_, kv_len_);
            for (int64_t kb = c0 / g.kv_block; kb * g.kv_block < c1; ++kb) {
              const int64_t a = std::max(c0, kb * g.kv_block), z = std::min(c1, (kb + 1) * g.kv_block);
              const int64_t n = allowed(r0, r1, a, z);
              int64_t& c = count[static_cast<size_t>(kb)];
              if (c == 0 && n > 0) touched.push_back(kb);
              c += n;
            }
          }
        }
        // One pattern row touches key blocks in ascending order; several need sorting.
        if (pieces > 1) {
          std::sort(touched.begin(), touched.end());
          touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        }
        const int64_t rows = qz - qa;
        for (const int64_t kb : touched) {
          int64_t& c = count[static_cast<size_t>(kb)];
          mask.append(static_cast<uint32_t>(kb), c < rows * g.kv_cols_in(kb));
          pairs += static_cast<double>(c);
          c = 0;
        }
        touched.clear();
        mask.end_row();
      }
    }
    mask.set_allowed_pairs(pairs);
    return mask;
  }

  std::string describe() const override {
    char d[32];
    std::snprintf(d, sizeof d, "%g", density_);
    return std::string("random_block(density=") + d + ", block_tokens=" + std::to_string(block_) +
           (diagonal_ ? ", include_diagonal" : "") + (causal_ ? ", causal)" : ")");
  }

 private:
  // Allowed pairs among queries [r0, r1) and keys [a, z) of one kept block pair.
  int64_t allowed(int64_t r0, int64_t r1, int64_t a, int64_t z) const {
    if (!causal_ || z - 1 <= r0) return (r1 - r0) * (z - a);
    int64_t n = 0;
    for (int64_t q = r0; q < r1; ++q) n += std::clamp<int64_t>(q - a + 1, 0, z - a);
    return n;
  }

  int64_t kv_len_;
  uint64_t seed_;
  double density_;
  uint64_t threshold_;
  int64_t block_;
  bool diagonal_, causal_;
};

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const double density = r.number("density", 0.0, 1.0);
  if (!(density > 0)) r.fail("density", "must be > 0 (a mask that keeps nothing); use a value in (0, 1]");
  const int64_t block = r.integer("block_tokens", 1, int64_t{1} << 40, 128);
  const bool diagonal = r.boolean("include_diagonal", true);
  const bool causal = r.boolean("causal", false);
  return std::make_unique<RandomBlock>(ctx.shape.kv_len, ctx.seed, density, block, diagonal, causal);
}

const Registrar<PatternEntry> kRegister(
    "random_block",
    PatternEntry{"seeded random block-sparse: each (head, q block, kv block) kept with probability density",
                 {{"density", "number", "", "probability 0 < p <= 1 that a block is kept"},
                  {"block_tokens", "integer", "128", "block size in tokens (blocks counted from position 0)"},
                  {"include_diagonal", "bool", "true", "always keep the block holding the query's own position"},
                  {"causal", "bool", "false", "also drop keys after the query"}},
                 false,
                 create});

}  // namespace
}  // namespace attnsim

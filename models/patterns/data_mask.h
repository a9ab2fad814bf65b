// Exact element masks stored one bit per (query, key), shared by the data-dependent
// patterns (relu, topk) and the element-mask file pattern.
//
// A BitMask holds batch x heads x q_len rows of kv_len bits (rows padded to whole
// 64-bit words, so rows never share a word and may be written from different
// threads). batch or heads may be 1 when the mask does not depend on them.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "models/patterns/i_sparsity_pattern.h"

namespace attnsim {

// Largest bitmap a pattern may hold (2 GiB).
inline constexpr uint64_t kMaxBitMaskBytes = uint64_t{2} << 30;

class BitMask {
 public:
  BitMask() = default;
  // Throws attnsim::Error naming `who` when the bitmap would exceed kMaxBitMaskBytes.
  BitMask(int64_t batch, int64_t heads, int64_t q_len, int64_t kv_len, const std::string& who);

  int64_t batch() const { return batch_; }
  int64_t heads() const { return heads_; }
  int64_t q_len() const { return q_len_; }
  int64_t kv_len() const { return kv_len_; }
  int64_t words_per_row() const { return words_; }

  // Row of query index i (0..q_len-1); b / h broadcast when the mask stores one.
  uint64_t* row(int64_t b, int64_t h, int64_t i) { return bits_.data() + offset(b, h, i); }
  const uint64_t* row(int64_t b, int64_t h, int64_t i) const { return bits_.data() + offset(b, h, i); }
  static void set(uint64_t* row, int64_t k) { row[k >> 6] |= uint64_t{1} << (k & 63); }
  static bool test(const uint64_t* row, int64_t k) { return (row[k >> 6] >> (k & 63)) & 1; }
  // Sets bits [begin, end).
  static void set_range(uint64_t* row, int64_t begin, int64_t end);

  // Appends the runs of set bits of a row as sorted, disjoint intervals.
  void row_intervals(int64_t b, int64_t h, int64_t i, std::vector<Interval>& out) const;

  // Exact block classification by counting bits. g must describe these rows:
  // g.q_len == q_len(), g.kv_len == kv_len(), and g.batch/g.heads equal to the
  // stored batch/heads unless those are 1.
  bool fits(const BlockGeometry& g) const;
  BlockMask classify(const BlockGeometry& g) const;

 private:
  size_t offset(int64_t b, int64_t h, int64_t i) const {
    const int64_t bb = batch_ == 1 ? 0 : b, hh = heads_ == 1 ? 0 : h;
    return static_cast<size_t>(((bb * heads_ + hh) * q_len_ + i) * words_);
  }

  int64_t batch_ = 0, heads_ = 0, q_len_ = 0, kv_len_ = 0, words_ = 0;
  std::vector<uint64_t> bits_;
};

// Base for patterns whose truth is a BitMask over the q_len queries, which sit at
// absolute positions q_offset .. q_offset + q_len - 1. Positions before the
// queries have no row (row_intervals appends nothing).
class BitMaskPattern : public ISparsityPattern {
 public:
  BitMaskPattern(BitMask mask, int64_t q_offset) : mask_(std::move(mask)), q_offset_(q_offset) {}
  void row_intervals(int64_t batch, int64_t head, int64_t q_pos, std::vector<Interval>& out) const override;
  bool batch_invariant() const override { return mask_.batch() == 1; }
  bool head_invariant() const override { return mask_.heads() == 1; }
  BlockMask block_mask(const BlockGeometry& g) const override;

 protected:
  BitMask mask_;
  int64_t q_offset_;
};

// Computes float32 scores S = Q K^T (Eigen, float accumulation, no scaling) for every
// (batch, query head), `rows` query rows at a time, and calls
//   fn(b, h, q0, rows, scores)   scores: rows x kv_len, row-major, for query indices q0..q0+rows-1.
// GQA: query head h reads KV head h / (q_heads / kv_heads). (b, h) pairs run on several
// threads (at most `threads`; 0 = all cores); fn must only write rows of its own (b, h).
// Results never depend on the thread count.
template <class Fn>
void for_each_score_tile(const AttentionShape& s, const InputSource& in, int threads, Fn&& fn);

// Type-erased implementation behind for_each_score_tile.
using ScoreTileCallback = void (*)(void* ctx, int64_t b, int64_t h, int64_t q0, int64_t rows, const float* scores);
void score_tiles(const AttentionShape& s, const InputSource& in, int threads, ScoreTileCallback cb, void* ctx);

template <class Fn>
void for_each_score_tile(const AttentionShape& s, const InputSource& in, int threads, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  score_tiles(
      s, in, threads,
      [](void* ctx, int64_t b, int64_t h, int64_t q0, int64_t rows, const float* scores) {
        (*static_cast<F*>(ctx))(b, h, q0, rows, scores);
      },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

}  // namespace attnsim

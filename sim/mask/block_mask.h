// Block-level sparsity mask: for each (batch, head, query block) row, the sorted
// list of KV blocks a tiled kernel must visit, each marked full (no element mask
// needed) or partial (element mask applied). Skipped blocks are absent.
// Stored as CSR so a 128k x 128k mask with 64-token blocks stays a few MB per head.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace attnsim {

struct BlockGeometry {
  int64_t batch = 1;
  int64_t heads = 1;      // query heads
  int64_t q_len = 0;
  int64_t kv_len = 0;
  int64_t q_offset = 0;   // absolute position of query row 0 (kv_len - q_len)
  int64_t q_block = 128;
  int64_t kv_block = 128;

  int64_t q_blocks() const { return (q_len + q_block - 1) / q_block; }
  int64_t kv_blocks() const { return (kv_len + kv_block - 1) / kv_block; }
  // Inline: the timing model asks for every tile.
  int64_t q_rows_in(int64_t qb) const { return std::min(q_block, q_len - qb * q_block); }  // last may be short
  int64_t kv_cols_in(int64_t kb) const { return std::min(kv_block, kv_len - kb * kv_block); }
};

struct BlockRow {
  const uint32_t* kv_block;
  const uint8_t* partial;
  uint32_t size;
};

class BlockMask {
 public:
  BlockMask() = default;
  // mask_batch / mask_heads are 1 when the pattern is the same for every batch / head.
  BlockMask(const BlockGeometry& geometry, int64_t mask_batch, int64_t mask_heads);

  const BlockGeometry& geometry() const { return geometry_; }
  int64_t mask_batch() const { return mask_batch_; }
  int64_t mask_heads() const { return mask_heads_; }
  int64_t rows() const { return mask_batch_ * mask_heads_ * geometry_.q_blocks(); }

  // Index of the stored row for a (batch, head, query block); broadcasts when shared.
  int64_t row_index(int64_t batch, int64_t head, int64_t q_block) const;
  BlockRow row(int64_t index) const;
  BlockRow row(int64_t batch, int64_t head, int64_t q_block) const { return row(row_index(batch, head, q_block)); }

  // Building: rows must be appended in row_index order.
  void append(uint32_t kv_block, bool partial);
  void end_row();
  bool complete() const { return static_cast<int64_t>(row_begin_.size()) == rows() + 1; }

  // Element pairs (q, k) allowed by the pattern, summed over stored rows; the
  // builder fills it so statistics need no second pass. -1 = unknown.
  void set_allowed_pairs(double pairs) { allowed_pairs_ = pairs; }
  double allowed_pairs_stored() const { return allowed_pairs_; }

  size_t entries() const { return kv_block_.size(); }
  size_t memory_bytes() const;

 private:
  BlockGeometry geometry_;
  int64_t mask_batch_ = 1;
  int64_t mask_heads_ = 1;
  std::vector<uint64_t> row_begin_;
  std::vector<uint32_t> kv_block_;
  std::vector<uint8_t> partial_;
  double allowed_pairs_ = -1;
};

struct MaskStats {
  int64_t total_blocks = 0;    // over every (batch, head, q block, kv block)
  int64_t full_blocks = 0;
  int64_t partial_blocks = 0;
  int64_t skipped_blocks = 0;
  double block_density = 0;    // (full + partial) / total
  double element_density = -1; // allowed pairs / (q_len x kv_len); -1 when unknown
  double allowed_pairs = -1;   // over all batches and heads
  double row_blocks_mean = 0;  // computed blocks per (b, h, q block) row
  int64_t row_blocks_min = 0;
  int64_t row_blocks_max = 0;
  double row_imbalance = 0;    // max / mean; 1 = perfectly balanced
  int64_t empty_rows = 0;      // rows with no block at all
};

MaskStats compute_stats(const BlockMask& mask);

// The mask a kernel without a block index sees: each row becomes the contiguous
// range from its first to its last block (loop bounds, as FlashAttention does for
// causal and local windows); blocks inside the range that the pattern skips become
// partial (computed, then fully masked). Rows that are already contiguous are unchanged.
BlockMask contiguous_cover(const BlockMask& mask);
// Entries contiguous_cover(mask) would have, without building it.
size_t contiguous_cover_entries(const BlockMask& mask);

// ASCII picture of one (batch, head) mask, downsampled to at most max_cells per
// side: '#' full, '+' partial, '.' skipped.
std::string mask_picture(const BlockMask& mask, int64_t batch, int64_t head, int64_t max_cells = 32);

}  // namespace attnsim

#include "sim/mask/block_mask.h"

#include <algorithm>

#include "sim/core/error.h"

namespace attnsim {

BlockMask::BlockMask(const BlockGeometry& geometry, int64_t mask_batch, int64_t mask_heads)
    : geometry_(geometry), mask_batch_(mask_batch), mask_heads_(mask_heads) {
  if (geometry.q_block <= 0 || geometry.kv_block <= 0) throw Error("block sizes must be positive");
  if (geometry.kv_blocks() > static_cast<int64_t>(UINT32_MAX)) throw Error("too many KV blocks for the mask index");
  row_begin_.reserve(static_cast<size_t>(rows()) + 1);
  row_begin_.push_back(0);
}

int64_t BlockMask::row_index(int64_t batch, int64_t head, int64_t q_block) const {
  const int64_t b = mask_batch_ == 1 ? 0 : batch;
  const int64_t h = mask_heads_ == 1 ? 0 : head;
  return (b * mask_heads_ + h) * geometry_.q_blocks() + q_block;
}

BlockRow BlockMask::row(int64_t index) const {
  const uint64_t begin = row_begin_[static_cast<size_t>(index)];
  const uint64_t end = row_begin_[static_cast<size_t>(index) + 1];
  return BlockRow{kv_block_.data() + begin, partial_.data() + begin, static_cast<uint32_t>(end - begin)};
}

void BlockMask::append(uint32_t kv_block, bool partial) {
  kv_block_.push_back(kv_block);
  partial_.push_back(partial ? 1 : 0);
}

void BlockMask::end_row() { row_begin_.push_back(kv_block_.size()); }

size_t BlockMask::memory_bytes() const {
  return row_begin_.capacity() * sizeof(uint64_t) + kv_block_.capacity() * sizeof(uint32_t) + partial_.capacity();
}

MaskStats compute_stats(const BlockMask& mask) {
  const BlockGeometry& g = mask.geometry();
  MaskStats s;
  const int64_t replicate = (g.batch / mask.mask_batch()) * (g.heads / mask.mask_heads());
  const int64_t rows = mask.rows();
  s.row_blocks_min = INT64_MAX;
  double sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    BlockRow row = mask.row(r);
    int64_t partial = 0;
    for (uint32_t i = 0; i < row.size; ++i) partial += row.partial[i];
    s.partial_blocks += partial * replicate;
    s.full_blocks += (row.size - partial) * replicate;
    sum += row.size;
    s.row_blocks_min = std::min<int64_t>(s.row_blocks_min, row.size);
    s.row_blocks_max = std::max<int64_t>(s.row_blocks_max, row.size);
    if (row.size == 0) s.empty_rows += replicate;
  }
  s.total_blocks = g.batch * g.heads * g.q_blocks() * g.kv_blocks();
  s.skipped_blocks = s.total_blocks - s.full_blocks - s.partial_blocks;
  s.block_density = s.total_blocks ? static_cast<double>(s.full_blocks + s.partial_blocks) / s.total_blocks : 0;
  s.row_blocks_mean = rows ? sum / rows : 0;
  if (rows == 0) s.row_blocks_min = 0;
  s.row_imbalance = s.row_blocks_mean > 0 ? s.row_blocks_max / s.row_blocks_mean : 0;
  if (mask.allowed_pairs_stored() >= 0) {
    s.allowed_pairs = mask.allowed_pairs_stored() * replicate;
    s.element_density = s.allowed_pairs / (static_cast<double>(g.batch * g.heads) * g.q_len * g.kv_len);
  }
  return s;
}

BlockMask contiguous_cover(const BlockMask& mask) {
  BlockMask out(mask.geometry(), mask.mask_batch(), mask.mask_heads());
  for (int64_t r = 0; r < mask.rows(); ++r) {
    const BlockRow row = mask.row(r);
    if (row.size > 0) {
      uint32_t i = 0;
      for (uint32_t kb = row.kv_block[0]; kb <= row.kv_block[row.size - 1]; ++kb) {
        if (i < row.size && row.kv_block[i] == kb) {
          out.append(kb, row.partial[i] != 0);
          ++i;
        } else {
          out.append(kb, true);
        }
      }
    }
    out.end_row();
  }
  out.set_allowed_pairs(mask.allowed_pairs_stored());
  return out;
}

size_t contiguous_cover_entries(const BlockMask& mask) {
  size_t n = 0;
  for (int64_t r = 0; r < mask.rows(); ++r) {
    const BlockRow row = mask.row(r);
    if (row.size > 0) n += row.kv_block[row.size - 1] - row.kv_block[0] + 1;
  }
  return n;
}

std::string mask_picture(const BlockMask& mask, int64_t batch, int64_t head, int64_t max_cells) {
  const BlockGeometry& g = mask.geometry();
  const int64_t qb = g.q_blocks(), kb = g.kv_blocks();
  const int64_t rstep = (qb + max_cells - 1) / max_cells, cstep = (kb + max_cells - 1) / max_cells;
  const int64_t out_rows = (qb + rstep - 1) / rstep, out_cols = (kb + cstep - 1) / cstep;
  // Per cell: 0 = all skipped, 2 = all full, 1 = anything else.
  std::vector<int> full(static_cast<size_t>(out_rows * out_cols), 0), any(full.size(), 0);
  for (int64_t q = 0; q < qb; ++q) {
    BlockRow row = mask.row(batch, head, q);
    for (uint32_t i = 0; i < row.size; ++i) {
      const size_t cell = static_cast<size_t>((q / rstep) * out_cols + row.kv_block[i] / cstep);
      any[cell] += 1;
      full[cell] += row.partial[i] ? 0 : 1;
    }
  }
  std::string out;
  for (int64_t r = 0; r < out_rows; ++r) {
    for (int64_t c = 0; c < out_cols; ++c) {
      const int64_t cell_blocks = std::min(rstep, qb - r * rstep) * std::min(cstep, kb - c * cstep);
      const size_t i = static_cast<size_t>(r * out_cols + c);
      out += any[i] == 0 ? '.' : (full[i] == cell_blocks ? '#' : '+');
    }
    out += '\n';
  }
  return out;
}

}  // namespace attnsim

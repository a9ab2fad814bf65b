#include "sim/trace/trace.h"

#include <algorithm>

#include "sim/core/error.h"

namespace attnsim {

const char* step_name(StepKind k) {
  switch (k) {
    case StepKind::load_q: return "load_q";
    case StepKind::load_k: return "load_k";
    case StepKind::load_v: return "load_v";
    case StepKind::mma_qk: return "mma_qk";
    case StepKind::apply_mask: return "apply_mask";
    case StepKind::softmax: return "softmax";
    case StepKind::mma_pv: return "mma_pv";
    case StepKind::store_o: return "store_o";
    case StepKind::store_partial: return "store_partial";
    case StepKind::load_partial: return "load_partial";
    case StepKind::combine: return "combine";
  }
  return "?";
}

Trace::Trace(const AttentionShape& shape, const TraceTiling& tiling, std::shared_ptr<const BlockMask> mask,
             std::vector<WorkUnit> units, std::string kernel_name)
    : shape_(shape), tiling_(tiling), mask_(std::move(mask)), units_(std::move(units)),
      kernel_name_(std::move(kernel_name)) {
  // Every timing model and report reads the totals; a 128k dense trace has 33M blocks to sum.
  totals_.units = static_cast<int64_t>(units_.size());
  for (const WorkUnit& u : units_) {
    const UnitCost c = unit_cost(u);
    if (u.kind == WorkKind::attention) {
      ++totals_.attention_units;
      totals_.tile_steps += 2 + 5 * c.kv_blocks + c.partial_blocks;
    } else {
      totals_.tile_steps += u.num_splits + 2;
    }
    totals_.mma_flops += c.mma_flops;
    totals_.exp_ops += c.exp_ops;
    totals_.kv_bytes_streamed += c.kv_bytes;
    totals_.q_bytes += c.q_bytes;
    totals_.out_bytes += c.out_bytes;
    totals_.partial_bytes += c.partial_bytes;
  }
}

int64_t Trace::unit_q_rows(const WorkUnit& u) const { return mask_->geometry().q_rows_in(u.q_block); }

UnitCost Trace::unit_cost(const WorkUnit& u) const {
  UnitCost c;
  const int64_t d = shape_.head_dim;
  const double eb = dtype_bytes(shape_.dtype);
  c.rows = unit_q_rows(u) * u.heads;
  if (u.kind == WorkKind::combine) {
    c.partial_bytes = c.rows * (d + 2) * 4.0 * u.num_splits;
    c.out_bytes = c.rows * d * eb;
    return c;
  }
  const BlockRow row = mask_->row(u.mask_row);
  const BlockGeometry& g = mask_->geometry();
  for (uint32_t i = u.entry_begin; i < u.entry_end; ++i) {
    const int64_t cols = g.kv_cols_in(row.kv_block[i]);
    c.kv_cols += cols;
    c.partial_blocks += row.partial[i];
    if (row.partial[i]) c.mask_ops += static_cast<double>(c.rows * cols);
  }
  c.kv_blocks = u.entry_end - u.entry_begin;
  c.mma_flops = 4.0 * c.rows * c.kv_cols * d;
  c.exp_ops = static_cast<double>(c.rows) * c.kv_cols;
  c.q_bytes = c.rows * d * eb;
  c.kv_bytes = 2.0 * c.kv_cols * d * eb;
  if (u.num_splits > 1) c.partial_bytes = c.rows * (d + 2) * 4.0;
  else c.out_bytes = c.rows * d * eb;
  return c;
}

std::vector<WorkUnit> make_units(const AttentionShape& shape, const TraceTiling& tiling, const BlockMask& mask) {
  const BlockGeometry& g = mask.geometry();
  if (tiling.pack_gqa && mask.mask_heads() != 1) {
    throw Error("pack_gqa needs a mask shared by all heads; this pattern differs per head");
  }
  const int64_t group = shape.group_size();
  const int64_t heads_per_unit = tiling.pack_gqa ? group : 1;
  std::vector<WorkUnit> units;
  std::vector<WorkUnit> combines;
  for (int64_t b = 0; b < shape.batch; ++b) {
    for (int64_t h = 0; h < shape.q_heads; h += heads_per_unit) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        WorkUnit u;
        u.batch = static_cast<uint32_t>(b);
        u.q_head = static_cast<uint32_t>(h);
        u.kv_head = static_cast<uint32_t>(h / group);
        u.heads = static_cast<uint32_t>(heads_per_unit);
        u.q_block = static_cast<uint32_t>(qb);
        u.mask_row = mask.row_index(b, h, qb);
        const uint32_t n = mask.row(u.mask_row).size;
        // Splits take contiguous, near-equal shares of the row's KV blocks.
        const int64_t splits = std::max<int64_t>(1, std::min<int64_t>(tiling.kv_splits, n));
        u.num_splits = static_cast<uint32_t>(splits);
        for (int64_t s = 0; s < splits; ++s) {
          u.split = static_cast<uint32_t>(s);
          u.entry_begin = static_cast<uint32_t>(n * s / splits);
          u.entry_end = static_cast<uint32_t>(n * (s + 1) / splits);
          units.push_back(u);
        }
        if (splits > 1) {
          WorkUnit c = u;
          c.kind = WorkKind::combine;
          c.split = 0;
          c.entry_begin = c.entry_end = 0;
          combines.push_back(c);
        }
      }
    }
  }
  // Combine units run after every attention unit (a second kernel in flash-decoding).
  units.insert(units.end(), combines.begin(), combines.end());
  return units;
}

}  // namespace attnsim

// A trace is the sequence of tile operations a tiled attention kernel performs,
// grouped by work unit (a CTA on a GPU, a grid step on a TPU core). It is the one
// interface between kernels (which generate it), the functional path and the
// timing models (which execute it).
//
// Compactness: units are materialised (tens of thousands at 128k tokens), but the
// steps inside a unit are generated on the fly from the shared BlockMask, so a
// dense 128k layer (~33 M tile steps) never exists op by op in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/mask/block_mask.h"
#include "sim/workload/workload.h"

namespace attnsim {

struct TraceTiling {
  int64_t q_block = 128;
  int64_t kv_block = 128;
  int64_t kv_splits = 1;  // split-KV (flash-decoding): units per mask row, merged by combine units
  bool pack_gqa = false;  // one unit serves every query head that shares a KV head
};

enum class WorkKind : uint8_t { attention, combine };

struct WorkUnit {
  WorkKind kind = WorkKind::attention;
  uint32_t batch = 0;
  uint32_t kv_head = 0;
  uint32_t q_head = 0;      // first query head served
  uint32_t heads = 1;       // query heads served (group size when GQA is packed)
  uint32_t q_block = 0;
  uint32_t split = 0;
  uint32_t num_splits = 1;
  uint32_t entry_begin = 0;  // range of the mask row's entries this unit visits
  uint32_t entry_end = 0;
  int64_t mask_row = 0;
};

enum class StepKind : uint8_t {
  load_q, load_k, load_v, mma_qk, apply_mask, softmax, mma_pv, store_o, store_partial, load_partial, combine
};
const char* step_name(StepKind k);

struct TileStep {
  StepKind kind;
  uint32_t kv_block;  // for K/V steps; otherwise 0
  int64_t rows;       // query rows in the tile (heads x q rows when packed)
  int64_t cols;       // keys in the tile (or head_dim for loads/stores of Q/O)
  bool partial;       // element mask needed
  double flops;       // matrix FLOPs (MMA) or elementwise ops (mask, softmax)
  double bytes;       // bytes read or written at the level the step names
};

// Aggregate of one unit's steps, for timing models that need totals, not order.
struct UnitCost {
  int64_t rows = 0;
  int64_t kv_blocks = 0;
  int64_t partial_blocks = 0;
  int64_t kv_cols = 0;        // keys visited
  double mma_flops = 0;       // QK^T + PV
  double exp_ops = 0;         // softmax exponentials
  double mask_ops = 0;        // element mask evaluations
  double q_bytes = 0, kv_bytes = 0, out_bytes = 0, partial_bytes = 0;
};

struct TraceTotals {
  int64_t units = 0;
  int64_t attention_units = 0;
  int64_t tile_steps = 0;
  double mma_flops = 0;
  double exp_ops = 0;
  double kv_bytes_streamed = 0;  // K/V tile loads summed over units (before any cache reuse)
  double q_bytes = 0, out_bytes = 0, partial_bytes = 0;
};

class Trace {
 public:
  Trace(const AttentionShape& shape, const TraceTiling& tiling, std::shared_ptr<const BlockMask> mask,
        std::vector<WorkUnit> units, std::string kernel_name);

  const AttentionShape& shape() const { return shape_; }
  const TraceTiling& tiling() const { return tiling_; }
  const BlockMask& mask() const { return *mask_; }
  std::shared_ptr<const BlockMask> mask_ptr() const { return mask_; }
  const std::vector<WorkUnit>& units() const { return units_; }
  const std::string& kernel_name() const { return kernel_name_; }

  int64_t unit_q_rows(const WorkUnit& u) const;  // query rows per head
  UnitCost unit_cost(const WorkUnit& u) const;
  const TraceTotals& totals() const { return totals_; }  // summed once at construction

  // Calls f(const TileStep&) for every step of unit u, in kernel order.
  template <class F>
  void for_each_step(const WorkUnit& u, F&& f) const;

 private:
  AttentionShape shape_;
  TraceTiling tiling_;
  std::shared_ptr<const BlockMask> mask_;
  std::vector<WorkUnit> units_;
  std::string kernel_name_;
  TraceTotals totals_;
};

// Standard unit layouts shared by kernels. `q_block_major` orders units so that
// consecutive units are query blocks of the same head (K/V reuse in L2), as
// FlashAttention's grid does.
std::vector<WorkUnit> make_units(const AttentionShape& shape, const TraceTiling& tiling, const BlockMask& mask);

template <class F>
void Trace::for_each_step(const WorkUnit& u, F&& f) const {
  const int64_t d = shape_.head_dim;
  const double eb = dtype_bytes(shape_.dtype);
  const int64_t rows = unit_q_rows(u) * u.heads;
  if (u.kind == WorkKind::combine) {
    for (uint32_t s = 0; s < u.num_splits; ++s) {
      f(TileStep{StepKind::load_partial, 0, rows, d, false, 0, rows * (d + 2) * 4.0});
    }
    f(TileStep{StepKind::combine, 0, rows, d, false, rows * (d + 4.0) * u.num_splits, 0});
    f(TileStep{StepKind::store_o, 0, rows, d, false, 0, rows * d * eb});
    return;
  }
  f(TileStep{StepKind::load_q, 0, rows, d, false, 0, rows * d * eb});
  const BlockRow row = mask_->row(u.mask_row);
  const BlockGeometry& g = mask_->geometry();
  for (uint32_t i = u.entry_begin; i < u.entry_end; ++i) {
    const uint32_t kb = row.kv_block[i];
    const bool partial = row.partial[i] != 0;
    const int64_t cols = g.kv_cols_in(kb);
    const double mma = 2.0 * rows * cols * d;
    f(TileStep{StepKind::load_k, kb, cols, d, partial, 0, cols * d * eb});
    f(TileStep{StepKind::mma_qk, kb, rows, cols, partial, mma, 0});
    if (partial) f(TileStep{StepKind::apply_mask, kb, rows, cols, true, static_cast<double>(rows * cols), 0});
    f(TileStep{StepKind::softmax, kb, rows, cols, partial, static_cast<double>(rows * cols), 0});
    f(TileStep{StepKind::load_v, kb, cols, d, partial, 0, cols * d * eb});
    f(TileStep{StepKind::mma_pv, kb, rows, cols, partial, mma, 0});
  }
  if (u.num_splits > 1) {
    f(TileStep{StepKind::store_partial, 0, rows, d, false, 0, rows * (d + 2) * 4.0});
  } else {
    f(TileStep{StepKind::store_o, 0, rows, d, false, 0, rows * d * eb});
  }
}

}  // namespace attnsim

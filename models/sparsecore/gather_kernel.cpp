// The kernel a SparseCore runs (impl `sparsecore_gather`): one work unit per
// (batch, KV head, group of g query positions), all query heads of the GQA group
// packed into its rows (g = the tile's q_block rows / group size). Its trace is at
// token granularity (1-key "blocks"): a unit visits exactly the union of the keys
// its rows selected, so the functional check executes precisely what is gathered.
// The timing model (sparsecore_timing.cpp) packs those keys into the dense tiles
// the host's matrix units compute.
#include <algorithm>

#include "models/kernels/i_kernel.h"

namespace attnsim {
namespace {

// Query positions per unit: the tile's rows shared by the GQA group's heads.
int64_t positions_per_unit(const KernelSpec& k, const AttentionShape& s) {
  return std::max<int64_t>(1, k.tile_for(s.head_dim).q_block / s.group_size());
}

// Per (batch, query head, query group) the union of the GQA group's rows, stored in the
// group's first head's row (the other heads' rows stay empty: no unit reads them).
// A key is full only when every head of the group keeps it for every position.
std::shared_ptr<const BlockMask> union_over_group(const BlockMask& m, const AttentionShape& s) {
  const BlockGeometry& g = m.geometry();
  auto out = std::make_shared<BlockMask>(g, m.mask_batch(), m.mask_heads());
  const int64_t group = s.group_size();
  std::vector<std::pair<uint32_t, uint8_t>> keys;
  for (int64_t b = 0; b < m.mask_batch(); ++b) {
    for (int64_t h = 0; h < m.mask_heads(); ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        if (h % group == 0) {
          keys.clear();
          for (int64_t j = h; j < h + group; ++j) {
            const BlockRow r = m.row(b, j, qb);
            for (uint32_t i = 0; i < r.size; ++i) keys.emplace_back(r.kv_block[i], r.partial[i]);
          }
          std::sort(keys.begin(), keys.end());
          for (size_t i = 0; i < keys.size();) {
            size_t j = i;
            bool partial = false;
            for (; j < keys.size() && keys[j].first == keys[i].first; ++j) partial |= keys[j].second != 0;
            out->append(keys[i].first, partial || static_cast<int64_t>(j - i) < group);
            i = j;
          }
        }
        out->end_row();
      }
    }
  }
  out->set_allowed_pairs(m.allowed_pairs_stored());
  return out;
}

class SparseCoreGather final : public IKernel {
 public:
  explicit SparseCoreGather(KernelSpec spec) : spec_(std::move(spec)) {}
  const KernelSpec& spec() const override { return spec_; }

  BlockGeometry block_geometry(const AttentionShape& shape) const override {
    BlockGeometry g = IKernel::block_geometry(shape);
    g.q_block = positions_per_unit(spec_, shape);
    g.kv_block = 1;  // token granularity: the selection itself, not the tiles
    return g;
  }

  Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                   const HwSpec& hw) const override {
    require_matrix_path(spec_, hw);
    if (mask->geometry().kv_block != 1) throw Error("sparsecore_gather needs a token-granular mask (kv_block 1)");
    TraceTiling tiling;
    tiling.q_block = mask->geometry().q_block;
    tiling.kv_block = 1;
    tiling.pack_gqa = true;
    if (mask->mask_heads() == 1) return Trace(shape, tiling, mask, make_units(shape, tiling, *mask), spec_.name);
    // Head-variant selections: a unit gathers the union of its heads' keys.
    auto merged = union_over_group(*mask, shape);
    std::vector<WorkUnit> units;
    const BlockGeometry& g = merged->geometry();
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t kvh = 0; kvh < shape.kv_heads; ++kvh) {
        for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
          WorkUnit u;
          u.batch = static_cast<uint32_t>(b);
          u.kv_head = static_cast<uint32_t>(kvh);
          u.q_head = static_cast<uint32_t>(kvh * shape.group_size());
          u.heads = static_cast<uint32_t>(shape.group_size());
          u.q_block = static_cast<uint32_t>(qb);
          u.mask_row = merged->row_index(b, u.q_head, qb);
          u.entry_end = merged->row(u.mask_row).size;
          units.push_back(u);
        }
      }
    }
    return Trace(shape, tiling, merged, std::move(units), spec_.name);
  }

 private:
  KernelSpec spec_;
};

std::unique_ptr<IKernel> create(KernelSpec spec) { return std::make_unique<SparseCoreGather>(std::move(spec)); }

const Registrar<KernelEntry> kRegister(
    "sparsecore_gather",
    KernelEntry{"SparseCore: gathers each query group's selected keys (token granularity) into dense tiles", create});

}  // namespace
}  // namespace attnsim

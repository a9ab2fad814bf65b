#include "models/sparsecore/gather_plan.h"

#include <algorithm>
#include <cmath>

namespace attnsim {

GatherPlan plan_gather(const Trace& tokens, int64_t tile, double row_bytes, const SparseCoreParams& sc) {
  const BlockMask& tm = tokens.mask();
  BlockGeometry g = tm.geometry();
  g.kv_block = tile;
  auto dense = std::make_shared<BlockMask>(g, tm.mask_batch(), tm.mask_heads());
  GatherPlan plan;
  plan.rows.resize(static_cast<size_t>(tm.rows()));
  const double req = sc.request_bytes;
  for (int64_t r = 0; r < tm.rows(); ++r) {
    const BlockRow row = tm.row(r);
    GatherRowStats& st = plan.rows[static_cast<size_t>(r)];
    st.tokens = row.size;
    int64_t label = -1;
    for (uint32_t i = 0; i < row.size; i += static_cast<uint32_t>(tile)) {
      const uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(tile), row.size - i);
      const int64_t first = row.kv_block[i], last = row.kv_block[i + n - 1];
      bool partial = n < tile;  // the padded keys of a short last tile are masked off
      for (uint32_t k = i; k < i + n; ++k) partial |= row.partial[k] != 0;
      // The tile is labelled with the original KV block of its first key (made strictly
      // increasing), so the host's cache model sees the reuse of the keys it holds.
      label = std::max(label + 1, first / tile);
      dense->append(static_cast<uint32_t>(label), partial);
      ++st.tiles;
      if (sc.bypass_aligned_tiles && n == tile && first % tile == 0 && last == first + tile - 1) {
        ++st.bypassed_tiles;
        ++st.indices;
        continue;
      }
      st.gathered_tokens += n;
      st.indices += n;
      // Runs of consecutive keys: each costs the aligned requests it touches, for K and for V.
      for (uint32_t k = i; k < i + n;) {
        uint32_t e = k + 1;
        while (e < i + n && row.kv_block[e] == row.kv_block[e - 1] + 1) ++e;
        const double a = row.kv_block[k] * row_bytes, z = (row.kv_block[e - 1] + 1) * row_bytes;
        st.request_bytes += 2.0 * (std::ceil(z / req) - std::floor(a / req)) * req;
        ++st.runs;
        k = e;
      }
    }
    dense->end_row();
  }
  dense->set_allowed_pairs(tm.allowed_pairs_stored());
  std::vector<WorkUnit> units = tokens.units();
  for (WorkUnit& u : units) {
    u.entry_begin = 0;
    u.entry_end = dense->row(u.mask_row).size;
    const GatherRowStats& st = plan.rows[static_cast<size_t>(u.mask_row)];
    plan.total.tokens += st.tokens;
    plan.total.tiles += st.tiles;
    plan.total.bypassed_tiles += st.bypassed_tiles;
    plan.total.gathered_tokens += st.gathered_tokens;
    plan.total.runs += st.runs;
    plan.total.request_bytes += st.request_bytes;
    plan.total.indices += st.indices;
  }
  TraceTiling tiling = tokens.tiling();
  tiling.kv_block = tile;
  plan.matrix = std::make_unique<Trace>(tokens.shape(), tiling, dense, std::move(units), tokens.kernel_name());
  return plan;
}

}  // namespace attnsim

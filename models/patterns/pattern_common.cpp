// Pattern factory and the exact interval -> block classifier shared by all patterns.
#include <algorithm>
#include <filesystem>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/core/error.h"

namespace attnsim {

void push_interval(std::vector<Interval>& out, int64_t begin, int64_t end, int64_t limit) {
  begin = std::max<int64_t>(begin, 0);
  end = std::min(end, limit);
  if (begin < end) out.push_back({begin, end});
}

void normalize_intervals(std::vector<Interval>& v) {
  std::sort(v.begin(), v.end(), [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  size_t w = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (w > 0 && v[i].begin <= v[w - 1].end) {
      v[w - 1].end = std::max(v[w - 1].end, v[i].end);
    } else {
      v[w++] = v[i];
    }
  }
  v.resize(w);
}

BlockMask ISparsityPattern::block_mask(const BlockGeometry& g) const { return classify_blocks(*this, g); }

BlockMask classify_blocks(const ISparsityPattern& pattern, const BlockGeometry& g) {
  const int64_t mb = pattern.batch_invariant() ? 1 : g.batch;
  const int64_t mh = pattern.head_invariant() ? 1 : g.heads;
  BlockMask mask(g, mb, mh);
  const int64_t kvb = g.kv_blocks();
  // partial_cover[kb]: allowed elements in block kb from intervals that cut it;
  // full_diff: difference array counting query rows whose interval spans block kb entirely.
  std::vector<int64_t> partial_cover(static_cast<size_t>(kvb), 0), full_diff(static_cast<size_t>(kvb) + 1, 0);
  std::vector<Interval> iv;
  double allowed_pairs = 0;
  for (int64_t b = 0; b < mb; ++b) {
    for (int64_t h = 0; h < mh; ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        int64_t lo = kvb, hi = -1;
        const int64_t rows = g.q_rows_in(qb);
        for (int64_t r = 0; r < rows; ++r) {
          iv.clear();
          pattern.row_intervals(b, h, g.q_offset + qb * g.q_block + r, iv);
          for (const Interval& x : iv) {
            allowed_pairs += static_cast<double>(x.end - x.begin);
            const int64_t k0 = x.begin / g.kv_block, k1 = (x.end - 1) / g.kv_block;
            lo = std::min(lo, k0);
            hi = std::max(hi, k1);
            if (k0 == k1) {
              partial_cover[static_cast<size_t>(k0)] += x.end - x.begin;
              continue;
            }
            partial_cover[static_cast<size_t>(k0)] += (k0 + 1) * g.kv_block - x.begin;
            partial_cover[static_cast<size_t>(k1)] += x.end - k1 * g.kv_block;
            full_diff[static_cast<size_t>(k0 + 1)] += 1;
            full_diff[static_cast<size_t>(k1)] -= 1;
          }
        }
        int64_t full_rows = 0;
        for (int64_t kb = lo; kb <= hi; ++kb) {
          full_rows += full_diff[static_cast<size_t>(kb)];
          const int64_t cols = g.kv_cols_in(kb);
          const int64_t covered = partial_cover[static_cast<size_t>(kb)] + full_rows * cols;
          if (covered > 0) mask.append(static_cast<uint32_t>(kb), covered < rows * cols);
          partial_cover[static_cast<size_t>(kb)] = 0;
          full_diff[static_cast<size_t>(kb)] = 0;
        }
        if (hi >= 0) full_diff[static_cast<size_t>(hi) + 1] = 0;
        mask.end_row();
      }
    }
  }
  mask.set_allowed_pairs(allowed_pairs);
  return mask;
}

std::unique_ptr<ISparsityPattern> make_pattern(const YAML::Node& spec, const PatternContext& ctx,
                                               const std::string& where) {
  MapReader r(spec, where + ": pattern");
  const std::string name = r.string("name");
  const PatternEntry* entry = nullptr;
  try {
    entry = &PatternRegistry::instance().get(name, "patterns");
  } catch (const Error& e) {
    r.fail("name", e.what());
  }
  if (entry->data_dependent && !ctx.inputs) {
    throw Error(where + ": pattern '" + name + "' derives its mask from Q/K data, but no inputs were given");
  }
  auto pattern = entry->create(r, ctx);
  r.finish();
  return pattern;
}

}  // namespace attnsim

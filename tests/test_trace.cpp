// Tests for block masks (sim/mask), traces (sim/trace) and the kernels that generate
// them (models/kernels): unit coverage with and without split-KV and GQA packing, the
// step sequence of a unit, agreement of unit_cost/totals with the steps, the dense
// kernels' contiguous cover, tiling errors, and the memory bound at 128k tokens.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/functional/inputs.h"
#include "sim/session/session.h"
#include "sim/trace/trace.h"

using namespace attnsim;
using Catch::Matchers::Contains;

namespace {

using Row = std::vector<std::pair<uint32_t, bool>>;  // (kv block, partial)

BlockMask mask_from(const BlockGeometry& g, int64_t mb, int64_t mh, const std::vector<Row>& rows) {
  BlockMask m(g, mb, mh);
  REQUIRE(static_cast<int64_t>(rows.size()) == m.rows());
  for (const Row& r : rows) {
    for (const auto& [kb, partial] : r) m.append(kb, partial);
    m.end_row();
  }
  REQUIRE(m.complete());
  return m;
}

// A deterministic pseudo-random mask: each block kept with probability ~1/2 and
// partial with probability ~1/3; some rows end up empty.
BlockMask random_mask(const BlockGeometry& g, int64_t mb, int64_t mh, uint64_t seed) {
  std::vector<Row> rows;
  for (int64_t r = 0; r < mb * mh * g.q_blocks(); ++r) {
    Row row;
    for (int64_t kb = 0; kb < g.kv_blocks(); ++kb) {
      const uint64_t x = mix64(seed * 1000003 + static_cast<uint64_t>(r * 131 + kb));
      if (x % 2 == 0) row.push_back({static_cast<uint32_t>(kb), (x / 2) % 3 == 0});
    }
    if (r % 7 == 3) row.clear();
    rows.push_back(row);
  }
  return mask_from(g, mb, mh, rows);
}

AttentionShape shape_of(int64_t batch, int64_t q_heads, int64_t kv_heads, int64_t d, int64_t q_len, int64_t kv_len) {
  AttentionShape s;
  s.batch = batch;
  s.q_heads = q_heads;
  s.kv_heads = kv_heads;
  s.head_dim = d;
  s.q_len = q_len;
  s.kv_len = kv_len;
  return s;
}

BlockGeometry geometry_of(const AttentionShape& s, int64_t qb, int64_t kvb) {
  return {s.batch, s.q_heads, s.q_len, s.kv_len, s.q_offset(), qb, kvb};
}

std::vector<TileStep> steps_of(const Trace& t, const WorkUnit& u) {
  std::vector<TileStep> out;
  t.for_each_step(u, [&](const TileStep& s) { out.push_back(s); });
  return out;
}

std::unique_ptr<ISparsityPattern> pattern_of(const std::string& yaml, const AttentionShape& s) {
  PatternContext ctx;
  ctx.shape = s;
  return make_pattern(load_yaml_string(yaml, "p.yaml"), ctx, "p.yaml");
}

const HwSpec& h100() {
  static const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  return hw;
}

// Checks that the attention units visit every (batch, query head, query block) row's
// entries exactly once, that splits are contiguous and that each split row has one
// combine unit, placed after every attention unit.
void check_coverage(const Trace& t) {
  const AttentionShape& s = t.shape();
  const BlockMask& m = t.mask();
  const BlockGeometry& g = m.geometry();
  std::map<std::tuple<int64_t, int64_t, int64_t>, std::vector<const WorkUnit*>> by_row;
  std::map<std::tuple<int64_t, int64_t, int64_t>, int> combines;
  bool seen_combine = false;
  for (const WorkUnit& u : t.units()) {
    if (u.kind == WorkKind::combine) {
      seen_combine = true;
      for (uint32_t h = u.q_head; h < u.q_head + u.heads; ++h) ++combines[{u.batch, h, u.q_block}];
      continue;
    }
    CHECK_FALSE(seen_combine);  // combine units come last
    CHECK(u.kv_head == u.q_head / s.group_size());
    for (uint32_t h = u.q_head; h < u.q_head + u.heads; ++h) {
      CHECK(h / s.group_size() == u.kv_head);  // a packed unit never mixes KV heads
      by_row[{u.batch, h, u.q_block}].push_back(&u);
    }
  }
  REQUIRE(static_cast<int64_t>(by_row.size()) == s.batch * s.q_heads * g.q_blocks());
  for (const auto& [key, units] : by_row) {
    const auto [b, h, qb] = key;
    const int64_t mask_row = m.row_index(b, h, qb);
    const uint32_t n = m.row(mask_row).size;
    uint32_t next = 0;
    for (size_t i = 0; i < units.size(); ++i) {
      const WorkUnit& u = *units[i];
      CHECK(u.mask_row == mask_row);
      CHECK(u.split == i);
      CHECK(u.num_splits == units.size());
      CHECK(u.entry_begin == next);
      CHECK(u.entry_end >= u.entry_begin);
      next = u.entry_end;
    }
    CHECK(next == n);
    CHECK(combines[key] == (units.size() > 1 ? 1 : 0));
  }
  for (const auto& [key, count] : combines) CHECK(by_row.count(key) == 1);
}

}  // namespace

TEST_CASE("make_units: every (batch, head, q block) exactly once", "[trace]") {
  const AttentionShape s = shape_of(2, 4, 4, 32, 300, 333);
  const BlockGeometry g = geometry_of(s, 64, 64);
  for (const auto& [mb, mh] : {std::pair<int64_t, int64_t>{1, 1}, {2, 4}, {1, 4}, {2, 1}}) {
    INFO("mask_batch " << mb << " mask_heads " << mh);
    auto m = std::make_shared<const BlockMask>(random_mask(g, mb, mh, 7));
    TraceTiling tiling{64, 64, 1, false};
    Trace t(s, tiling, m, make_units(s, tiling, *m), "test");
    CHECK(t.units().size() == static_cast<size_t>(2 * 4 * g.q_blocks()));
    check_coverage(t);
    for (const WorkUnit& u : t.units()) CHECK(u.heads == 1);
  }
}

TEST_CASE("make_units: split-KV splits rows and adds one combine unit per split row", "[trace]") {
  const AttentionShape s = shape_of(1, 3, 3, 16, 200, 1000);
  const BlockGeometry g = geometry_of(s, 64, 64);
  auto m = std::make_shared<const BlockMask>(random_mask(g, 1, 3, 11));
  for (int64_t splits : {1, 2, 3, 5, 64}) {
    INFO("kv_splits " << splits);
    TraceTiling tiling{64, 64, splits, false};
    Trace t(s, tiling, m, make_units(s, tiling, *m), "test");
    check_coverage(t);
    int64_t attention = 0, combine = 0;
    for (const WorkUnit& u : t.units()) {
      const uint32_t n = m->row(u.mask_row).size;
      if (u.kind == WorkKind::combine) {
        ++combine;
        CHECK(u.num_splits > 1);
        continue;
      }
      ++attention;
      // Never more splits than blocks; near-equal shares.
      CHECK(u.num_splits == std::max<uint32_t>(1, std::min<uint32_t>(static_cast<uint32_t>(splits), n)));
      if (n > 0) CHECK(u.entry_end - u.entry_begin >= n / u.num_splits);
    }
    CHECK(t.totals().attention_units == attention);
    CHECK(t.totals().units == attention + combine);
    if (splits == 1) CHECK(combine == 0);
    else CHECK(combine > 0);
  }
}

TEST_CASE("make_units: pack_gqa serves group_size heads per unit", "[trace]") {
  const AttentionShape s = shape_of(2, 8, 2, 32, 130, 130);
  const BlockGeometry g = geometry_of(s, 64, 64);
  auto shared = std::make_shared<const BlockMask>(random_mask(g, 1, 1, 3));
  TraceTiling tiling{64, 64, 1, true};
  Trace t(s, tiling, shared, make_units(s, tiling, *shared), "test");
  CHECK(t.units().size() == static_cast<size_t>(2 * 2 * g.q_blocks()));
  check_coverage(t);
  for (const WorkUnit& u : t.units()) {
    CHECK(u.heads == 4);
    CHECK(u.q_head == u.kv_head * 4);
    const UnitCost c = t.unit_cost(u);
    CHECK(c.rows == 4 * g.q_rows_in(u.q_block));
  }
  // A mask that differs per head cannot be packed.
  const BlockMask per_head = random_mask(g, 1, 8, 3);
  CHECK_THROWS_WITH(make_units(s, tiling, per_head), Contains("pack_gqa needs a mask shared by all heads"));
}

TEST_CASE("for_each_step visits the mask row's blocks in order with the right step kinds", "[trace]") {
  const AttentionShape s = shape_of(1, 2, 1, 16, 150, 330);  // odd sizes: short last blocks
  const BlockGeometry g = geometry_of(s, 64, 64);               // 3 q blocks x 6 kv blocks
  auto m = std::make_shared<const BlockMask>(mask_from(
      g, 1, 1, {{{0, false}, {2, true}, {5, true}}, {}, {{1, true}, {3, false}, {4, false}, {5, false}}}));
  const double eb = 2;  // bf16
  for (int64_t splits : {1, 2}) {
    TraceTiling tiling{64, 64, splits, false};
    Trace t(s, tiling, m, make_units(s, tiling, *m), "test");
    for (const WorkUnit& u : t.units()) {
      INFO("unit q_head " << u.q_head << " q_block " << u.q_block << " split " << u.split);
      const std::vector<TileStep> st = steps_of(t, u);
      const int64_t rows = g.q_rows_in(u.q_block);
      if (u.kind == WorkKind::combine) {
        REQUIRE(st.size() == u.num_splits + 2);
        for (uint32_t i = 0; i < u.num_splits; ++i) CHECK(st[i].kind == StepKind::load_partial);
        CHECK(st[u.num_splits].kind == StepKind::combine);
        CHECK(st.back().kind == StepKind::store_o);
        continue;
      }
      // Expected: load_q, per block (load_k, mma_qk, [apply_mask], softmax, load_v, mma_pv), store.
      std::vector<StepKind> want = {StepKind::load_q};
      std::vector<uint32_t> want_blocks;
      const BlockRow row = m->row(u.mask_row);
      for (uint32_t i = u.entry_begin; i < u.entry_end; ++i) {
        want.insert(want.end(), {StepKind::load_k, StepKind::mma_qk});
        if (row.partial[i]) want.push_back(StepKind::apply_mask);
        want.insert(want.end(), {StepKind::softmax, StepKind::load_v, StepKind::mma_pv});
        want_blocks.push_back(row.kv_block[i]);
      }
      want.push_back(u.num_splits > 1 ? StepKind::store_partial : StepKind::store_o);
      REQUIRE(st.size() == want.size());
      std::vector<uint32_t> visited;
      for (size_t i = 0; i < st.size(); ++i) {
        INFO("step " << i << " " << step_name(st[i].kind));
        CHECK(st[i].kind == want[i]);
        CHECK(st[i].rows == (st[i].kind == StepKind::load_k || st[i].kind == StepKind::load_v
                                 ? g.kv_cols_in(st[i].kv_block)
                                 : rows));
        if (st[i].kind == StepKind::load_k) visited.push_back(st[i].kv_block);
        if (st[i].kind == StepKind::mma_qk) {
          CHECK(st[i].cols == g.kv_cols_in(st[i].kv_block));
          CHECK(st[i].flops == 2.0 * rows * st[i].cols * s.head_dim);
        }
        if (st[i].kind == StepKind::apply_mask) CHECK(st[i].partial);
        if (st[i].kind == StepKind::load_v) CHECK(st[i].bytes == g.kv_cols_in(st[i].kv_block) * 16 * eb);
      }
      CHECK(visited == want_blocks);
    }
  }
  // The last kv block has 330 - 5*64 = 10 keys, the last q block 150 - 128 = 22 rows.
  CHECK(g.kv_cols_in(5) == 10);
  CHECK(g.q_rows_in(2) == 22);
}

TEST_CASE("unit_cost and totals agree with the steps", "[trace]") {
  const AttentionShape s = shape_of(2, 4, 2, 48, 200, 450);
  const BlockGeometry g = geometry_of(s, 64, 32);
  for (const bool pack : {false, true}) {
    for (const int64_t splits : {1, 3}) {
      INFO("pack " << pack << " splits " << splits);
      auto m = std::make_shared<const BlockMask>(random_mask(g, pack ? 1 : 2, pack ? 1 : 4, 5));
      TraceTiling tiling{64, 32, splits, pack};
      Trace t(s, tiling, m, make_units(s, tiling, *m), "test");
      TraceTotals sum;
      double want_mma = 0;
      for (const WorkUnit& u : t.units()) {
        UnitCost from_steps;
        int64_t steps = 0;
        t.for_each_step(u, [&](const TileStep& st) {
          ++steps;
          switch (st.kind) {
            case StepKind::mma_qk:
              from_steps.mma_flops += st.flops;
              from_steps.kv_cols += st.cols;
              ++from_steps.kv_blocks;
              break;
            case StepKind::mma_pv: from_steps.mma_flops += st.flops; break;
            case StepKind::apply_mask:
              from_steps.mask_ops += st.flops;
              ++from_steps.partial_blocks;
              break;
            case StepKind::softmax: from_steps.exp_ops += st.flops; break;
            case StepKind::load_q: from_steps.q_bytes += st.bytes; break;
            case StepKind::load_k:
            case StepKind::load_v: from_steps.kv_bytes += st.bytes; break;
            case StepKind::store_o: from_steps.out_bytes += st.bytes; break;
            case StepKind::store_partial:
            case StepKind::load_partial: from_steps.partial_bytes += st.bytes; break;
            case StepKind::combine: break;
          }
        });
        const UnitCost c = t.unit_cost(u);
        CHECK(c.mma_flops == from_steps.mma_flops);
        CHECK(c.kv_cols == from_steps.kv_cols);
        CHECK(c.kv_blocks == from_steps.kv_blocks);
        CHECK(c.partial_blocks == from_steps.partial_blocks);
        CHECK(c.mask_ops == from_steps.mask_ops);
        CHECK(c.exp_ops == from_steps.exp_ops);
        CHECK(c.q_bytes == from_steps.q_bytes);
        CHECK(c.kv_bytes == from_steps.kv_bytes);
        CHECK(c.out_bytes == from_steps.out_bytes);
        CHECK(c.partial_bytes == from_steps.partial_bytes);
        sum.tile_steps += steps;
        sum.mma_flops += c.mma_flops;
        sum.exp_ops += c.exp_ops;
        sum.kv_bytes_streamed += c.kv_bytes;
        sum.out_bytes += c.out_bytes;
      }
      // Independently: 4 x rows x cols x d over every (b, h, q block, listed kv block).
      for (int64_t b = 0; b < s.batch; ++b) {
        for (int64_t h = 0; h < s.q_heads; ++h) {
          for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
            const BlockRow row = m->row(b, h, qb);
            for (uint32_t i = 0; i < row.size; ++i) {
              want_mma += 4.0 * g.q_rows_in(qb) * g.kv_cols_in(row.kv_block[i]) * s.head_dim;
            }
          }
        }
      }
      const TraceTotals tot = t.totals();
      CHECK(tot.mma_flops == want_mma);
      CHECK(tot.mma_flops == sum.mma_flops);
      CHECK(tot.tile_steps == sum.tile_steps);
      CHECK(tot.exp_ops == sum.exp_ops);
      CHECK(tot.kv_bytes_streamed == sum.kv_bytes_streamed);
      CHECK(tot.out_bytes == sum.out_bytes);
      CHECK(tot.out_bytes == Approx(s.out_bytes()));  // every output row stored exactly once
    }
  }
}

TEST_CASE("contiguous_cover fills the gaps of each row with partial blocks", "[trace]") {
  const BlockGeometry g{1, 1, 256, 512, 0, 64, 64};  // 4 x 8 blocks
  const BlockMask m = mask_from(g, 1, 1,
                                {{{1, false}, {4, true}, {6, false}},
                                 {},
                                 {{2, true}, {3, false}},
                                 {{0, false}, {2, false}, {7, false}}});
  BlockMask tmp = m;
  tmp.set_allowed_pairs(1234);
  const BlockMask c = contiguous_cover(tmp);
  auto row_text = [&](int64_t qb) {
    const BlockRow r = c.row(0, 0, qb);
    std::string s;
    for (uint32_t i = 0; i < r.size; ++i) s += std::to_string(r.kv_block[i]) + (r.partial[i] ? "P " : "F ");
    return s;
  };
  CHECK(row_text(0) == "1F 2P 3P 4P 5P 6F ");
  CHECK(row_text(1).empty());
  CHECK(row_text(2) == "2P 3F ");
  CHECK(row_text(3) == "0F 1P 2F 3P 4P 5P 6P 7F ");
  CHECK(c.allowed_pairs_stored() == 1234);
  const MaskStats st = compute_stats(c);
  CHECK(st.empty_rows == 1);
  CHECK(st.full_blocks == 6);
  CHECK(st.partial_blocks == 10);
}

TEST_CASE("compute_stats counts replicated rows and mask_picture draws them", "[trace]") {
  const BlockGeometry g{2, 3, 256, 256, 0, 64, 64};  // shared by 2 batches x 3 heads
  const BlockMask m = mask_from(g, 1, 1, {{{0, true}}, {{0, false}, {1, true}}, {}, {{0, false}, {1, false}, {2, false}, {3, true}}});
  const MaskStats st = compute_stats(m);
  CHECK(st.total_blocks == 6 * 16);
  CHECK(st.full_blocks == 6 * 4);
  CHECK(st.partial_blocks == 6 * 3);
  CHECK(st.skipped_blocks == 6 * 9);
  CHECK(st.empty_rows == 6);
  CHECK(st.row_blocks_min == 0);
  CHECK(st.row_blocks_max == 4);
  CHECK(st.row_blocks_mean == Approx(7.0 / 4));
  CHECK(st.block_density == Approx(7.0 / 16));
  CHECK(st.element_density == -1);  // unknown: nobody set allowed pairs
  CHECK(mask_picture(m, 1, 2) == "+...\n#+..\n....\n###+\n");
}

TEST_CASE("kernels: dense kernels see the contiguous cover, block-sparse ones the mask", "[trace]") {
  const AttentionShape s = shape_of(1, 2, 2, 64, 1024, 1024);
  const auto pattern = pattern_of("{name: strided, stride_tokens: 256}", s);
  SECTION("fa2 (skips_empty_blocks: false)") {
    const auto fa2 = make_kernel("fa2");
    REQUIRE_FALSE(fa2->spec().skips_empty_blocks);
    const BlockGeometry g = fa2->block_geometry(s);
    CHECK(g.q_block == 128);  // fa2 tile for d <= 64
    CHECK(g.kv_block == 128);
    auto m = std::make_shared<const BlockMask>(pattern->block_mask(g));
    // The strided mask has gaps (e.g. the last query block skips kv blocks 1 and 3).
    bool gaps = false;
    for (int64_t r = 0; r < m->rows(); ++r) {
      const BlockRow row = m->row(r);
      if (row.size > 0 && row.kv_block[row.size - 1] - row.kv_block[0] + 1 != row.size) gaps = true;
    }
    REQUIRE(gaps);
    const Trace t = fa2->make_trace(s, m, h100());
    CHECK(&t.mask() != m.get());
    const BlockMask cover = contiguous_cover(*m);
    REQUIRE(t.mask().rows() == cover.rows());
    for (int64_t r = 0; r < cover.rows(); ++r) {
      const BlockRow a = t.mask().row(r), b = cover.row(r);
      REQUIRE(a.size == b.size);
      for (uint32_t i = 0; i < a.size; ++i) {
        CHECK(a.kv_block[i] == a.kv_block[0] + i);  // contiguous ranges
        CHECK(a.kv_block[i] == b.kv_block[i]);
        CHECK(a.partial[i] == b.partial[i]);
      }
    }
    check_coverage(t);
    CHECK(t.tiling().kv_splits == 1);
    CHECK(t.kernel_name() == "fa2");
  }
  SECTION("flex (block_sparse) keeps the pattern's mask") {
    const auto flex = make_kernel("flex");
    REQUIRE(flex->spec().skips_empty_blocks);
    auto m = std::make_shared<const BlockMask>(pattern->block_mask(flex->block_geometry(s)));
    const Trace t = flex->make_trace(s, m, h100());
    CHECK(&t.mask() == m.get());
    check_coverage(t);
  }
  SECTION("a kernel whose matrix path the hardware lacks") {
    const HwSpec a100 = load_hw_spec(resolve_hw_path("a100-sxm"));
    const auto fa3 = make_kernel("fa3");
    auto m = std::make_shared<const BlockMask>(pattern->block_mask(fa3->block_geometry(s)));
    CHECK_THROWS_WITH(fa3->make_trace(s, m, a100), Contains("no matrix path 'wgmma'"));
  }
}

TEST_CASE("kernels: flash_decoding packs GQA and splits KV", "[trace]") {
  AttentionShape s = shape_of(1, 8, 2, 128, 1, 8192);
  s.phase = Phase::decode;
  const auto fd = make_kernel("flash_decoding");
  const BlockGeometry g = fd->block_geometry(s);
  CHECK(g.q_block == 1);
  CHECK(g.kv_block == 128);
  const auto pattern = pattern_of("{name: causal}", s);
  auto m = std::make_shared<const BlockMask>(pattern->block_mask(g));
  const Trace t = fd->make_trace(s, m, h100());
  CHECK(t.tiling().pack_gqa);
  CHECK(t.tiling().kv_splits > 1);
  check_coverage(t);
  for (const WorkUnit& u : t.units()) CHECK(u.heads == 4);
  // FA2's heuristic with 2 packed rows: wave fill 2s/264 only grows with s, so the
  // smallest split count within 85% of the best eligible one (64, one block each) is
  // the next eligible count above 0.85 * 64 = 54.4 (33..63 all give 2 blocks): 64.
  CHECK(t.tiling().kv_splits == 64);
  CHECK(t.totals().attention_units == 2 * std::min<int64_t>(t.tiling().kv_splits, 64));
  CHECK(t.totals().units == t.totals().attention_units + 2);  // one combine unit per packed row
  CHECK(t.totals().mma_flops == Approx(4.0 * 8 * 8192 * 128));
}

TEST_CASE("kernels: flash_decoding follows FA2's split rule, as Nsight Compute saw it", "[trace]") {
  // Grids of flash_fwd_splitkv_kernel on a 132-SM GPU (validation/h200/data/decode_regimes_ncu.csv):
  // MHA b1 128k -> 7 splits, GQA 32/8 b1 128k -> 28, GQA b8 16k -> 4; MHA b8 16k and
  // GQA b32 16k run flash_fwd_kernel (128 x 64 tiles) in one pass.
  const auto fd = make_kernel("flash_decoding");
  auto splits = [&](int64_t b, int64_t hkv, int64_t kv) {
    AttentionShape s = shape_of(b, 32, hkv, 128, 1, kv);
    s.phase = Phase::decode;
    REQUIRE(fd->dispatch(s, h100()).empty());
    auto m = std::make_shared<const BlockMask>(pattern_of("{name: dense}", s)->block_mask(fd->block_geometry(s)));
    return fd->make_trace(s, m, h100()).tiling().kv_splits;
  };
  CHECK(splits(1, 32, 131072) == 7);
  CHECK(splits(1, 8, 131072) == 28);
  CHECK(splits(8, 8, 16384) == 4);
  for (const auto& [b, hkv] : {std::pair<int64_t, int64_t>{8, 32}, {32, 8}}) {
    AttentionShape s = shape_of(b, 32, hkv, 128, 1, 16384);
    s.phase = Phase::decode;
    CHECK(fd->dispatch(s, h100()) == "fa2");
  }
  // Through a session the one-pass kernel really runs: FA2's 128 x 64 tiles, no combine,
  // GQA groups folded into query rows.
  const Workload w = parse_workload(load_yaml_string("name: d\nbatch: 32\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\n"
                                                     "phase: decode\nq_len: 1\nkv_len: 16384\npattern: {name: dense}\n",
                                                     "d.yaml"),
                                    "d.yaml");
  const Session ses = prepare_session(h100(), w, "flash_decoding");
  CHECK(ses.kernel->spec().name == "fa2");
  CHECK(ses.dispatched_from == "flash_decoding");
  CHECK(ses.trace->tiling().kv_block == 64);
  CHECK(ses.trace->tiling().pack_gqa);
  CHECK(ses.trace->totals().units == 32 * 8);
}

TEST_CASE("kernels: cudnn_decode splits as far as one wave allows, as Nsight Compute saw it", "[trace]") {
  // cuDNN's decode grids on a 132-SM GPU (validation/h200/data/decode_cudnn/): MHA b1 -> 8 splits
  // (256 CTAs), GQA 32/8 b1 -> 32, GQA b8 -> 4, MHA b8 -> none. The round-up rule of the other
  // split kernels would give 9 for MHA b1: 288 CTAs, a second wave on 264 slots.
  const auto cd = make_kernel("cudnn_decode");
  auto splits = [&](int64_t b, int64_t hkv) {
    AttentionShape s = shape_of(b, 32, hkv, 128, 1, 32768);
    s.phase = Phase::decode;
    auto m = std::make_shared<const BlockMask>(pattern_of("{name: dense}", s)->block_mask(cd->block_geometry(s)));
    return cd->make_trace(s, m, h100()).tiling().kv_splits;
  };
  CHECK(splits(1, 32) == 8);
  CHECK(splits(1, 8) == 32);  // 264 / 8 = 33 splits of 256 blocks need only 32 of 8 blocks
  CHECK(splits(8, 8) == 4);
  CHECK(splits(8, 32) == 1);
}

TEST_CASE("kernels: FA2 prefill on a small grid runs its split-KV kernel, as Nsight Compute saw it", "[trace]") {
  // validation/h200/data/occupancy/fa2_small_grid_ncu.csv: 2 heads at S = 4k launch
  // flash_fwd_splitkv_kernel with 2 splits of 64-row tiles (grid (64, 2, 2)); 2 heads at 8k, whose
  // 256 rows of 64 fill the slots, run flash_fwd_kernel.
  auto prefill = [](int64_t heads, int64_t s) {
    return parse_workload(load_yaml_string("name: p\nbatch: 1\nq_heads: " + std::to_string(heads) + "\nkv_heads: " +
                                               std::to_string(heads) + "\nhead_dim: 128\nphase: prefill\nq_len: " +
                                               std::to_string(s) + "\nkv_len: " + std::to_string(s) +
                                               "\npattern: {name: dense}\n",
                                           "p.yaml"),
                          "p.yaml");
  };
  const Session split = prepare_session(h100(), prefill(2, 4096), "fa2");
  CHECK(split.kernel->spec().name == "flash_decoding");
  CHECK(split.dispatched_from == "fa2");
  CHECK(split.trace->tiling().q_block == 64);
  CHECK(split.trace->tiling().kv_splits == 2);
  CHECK_FALSE(split.trace->tiling().pack_gqa);
  CHECK(split.trace->totals().attention_units == 2 * 64 * 2);
  const Session one = prepare_session(h100(), prefill(2, 8192), "fa2");
  CHECK(one.kernel->spec().name == "fa2");
  CHECK(one.dispatched_from.empty());
  // With no kernel named, a sparse pattern still gives way to the block-sparse kernel where one
  // runs (H100: flex), and keeps the dense default where none does (A100 has no wgmma path).
  const Workload sparse = parse_workload(
      load_yaml_string("name: s\nbatch: 1\nq_heads: 2\nhead_dim: 128\nphase: prefill\nkv_len: 4096\n"
                       "pattern: {name: random_block, density: 0.2}\n",
                       "s.yaml"),
      "s.yaml");
  CHECK(prepare_session(h100(), sparse, "").kernel->spec().name == "flex");
  const Session a100 = prepare_session(load_hw_spec(resolve_hw_path("a100-sxm")), sparse, "");
  CHECK(a100.kernel->spec().name == "flash_decoding");
  CHECK(a100.dispatched_from == "fa2");
}

TEST_CASE("kernels: head_dim that no tile supports is a clear error", "[trace]") {
  for (const std::string& path : list_kernel_configs()) {
    INFO(path);
    const auto k = make_kernel(path);
    const int64_t max_d = k->spec().tiles.back().max_head_dim;
    const AttentionShape s = shape_of(1, 1, 1, max_d + 1, 128, 128);
    CHECK_NOTHROW(k->block_geometry(shape_of(1, 1, 1, max_d, 128, 128)));
    CHECK_THROWS_WITH(k->block_geometry(s), Contains("kernel '" + k->spec().name + "' cannot tile head_dim " +
                                                     std::to_string(max_d + 1)) &&
                                                Contains("supports head_dim <= " + std::to_string(max_d)));
  }
  CHECK_THROWS_WITH(make_kernel("fa4"), Contains("unknown kernel 'fa4'") && Contains("available kernels: "));
}

TEST_CASE("memory bound: a dense 128k layer's mask and trace stay small", "[trace]") {
  Workload w = parse_workload(load_yaml_string("name: dense128k\nbatch: 1\nq_heads: 32\nhead_dim: 128\n"
                                               "phase: prefill\nkv_len: 131072\n",
                                               "dense128k.yaml"),
                              "dense128k.yaml");
  const auto start = std::chrono::steady_clock::now();
  const Session ses = prepare_session(load_hw_spec(resolve_hw_path("h100-sxm")), w, "fa3", false);
  const TraceTotals tot = ses.trace->totals();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Trace& t = *ses.trace;
  const size_t bytes = t.mask().memory_bytes() + t.units().capacity() * sizeof(WorkUnit);
  INFO("mask " << t.mask().memory_bytes() << " B, units " << t.units().size() << ", " << seconds << " s");
  CHECK(t.mask().mask_heads() == 1);  // dense is head-invariant: one stored copy
  CHECK(t.units().size() == 32u * 1024u);
  CHECK(tot.tile_steps > 150'000'000);  // 32 x 1024 x 1024 blocks x 5 steps, never materialised
  CHECK(bytes < (size_t{64} << 20));    // far under 1 GiB
  CHECK(tot.mma_flops == Approx(4.0 * 32 * 131072.0 * 131072.0 * 128));
  CHECK(seconds < 20);
}

// Tests for the sparsity-pattern plug-ins (models/patterns): exact block counts on
// hand-computable cases, a brute-force check that block_mask() agrees with
// row_intervals() element by element on odd sizes, the interval contract, mask files
// (FlexAttention .npz, .npy bitmaps and element masks), the data-dependent patterns
// against a float64 reference, and every class of bad input.
#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "models/patterns/i_sparsity_pattern.h"
#include "tests/cli_helpers.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/functional/inputs.h"
#include "sim/io/npy.h"

using namespace attnsim;
namespace fs = std::filesystem;

namespace {

AttentionShape shape(int64_t q_len, int64_t kv_len, int64_t heads = 1, int64_t batch = 1, int64_t kv_heads = 0) {
  AttentionShape s;
  s.batch = batch;
  s.q_heads = heads;
  s.kv_heads = kv_heads ? kv_heads : heads;
  s.head_dim = 16;
  s.q_len = q_len;
  s.kv_len = kv_len;
  return s;
}

std::unique_ptr<ISparsityPattern> make(const std::string& yaml, const AttentionShape& s, uint64_t seed = 1,
                                       const InputSource* inputs = nullptr, const std::string& base_dir = "") {
  PatternContext ctx;
  ctx.shape = s;
  ctx.seed = seed;
  ctx.inputs = inputs;
  ctx.base_dir = base_dir;
  return make_pattern(load_yaml_string(yaml, "test"), ctx, "test.yaml");
}

BlockGeometry geom(const AttentionShape& s, int64_t q_block, int64_t kv_block) {
  return {s.batch, s.q_heads, s.q_len, s.kv_len, s.q_offset(), q_block, kv_block};
}

// A row as text, e.g. "0F 1F 4P 5P" (F full, P partial).
std::string row_text(const BlockMask& m, int64_t qb, int64_t h = 0, int64_t b = 0) {
  const BlockRow r = m.row(b, h, qb);
  std::string s;
  for (uint32_t i = 0; i < r.size; ++i)
    s += (i ? " " : "") + std::to_string(r.kv_block[i]) + (r.partial[i] ? "P" : "F");
  return s;
}

// Block mask of a pattern built from `yaml` on a square sequence.
MaskStats stats(const std::string& yaml, int64_t seq, int64_t block, int64_t heads = 1) {
  const AttentionShape s = shape(seq, seq, heads);
  return compute_stats(make(yaml, s)->block_mask(geom(s, block, block)));
}

// First violation of the interval contract or of block_mask/row_intervals agreement; "" if none.
std::string brute_force_mismatch(const ISparsityPattern& p, const BlockGeometry& g) {
  const BlockMask m = p.block_mask(g);
  if (!m.complete()) return "mask incomplete";
  double stored_pairs = 0;
  std::vector<Interval> iv, ref;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t h = 0; h < g.heads; ++h) {
      std::vector<uint8_t> allowed(static_cast<size_t>(g.q_len * g.kv_len), 0);
      for (int64_t i = 0; i < g.q_len; ++i) {
        const int64_t q = g.q_offset + i;
        iv.clear();
        p.row_intervals(b, h, q, iv);
        int64_t prev_end = -1;
        for (const Interval& x : iv) {
          if (x.begin >= x.end || x.begin < 0 || x.end > g.kv_len || x.begin < prev_end)
            return "bad intervals at q=" + std::to_string(q);
          prev_end = x.end;
          for (int64_t k = x.begin; k < x.end; ++k) allowed[static_cast<size_t>(i * g.kv_len + k)] = 1;
          if (b < m.mask_batch() && h < m.mask_heads()) stored_pairs += static_cast<double>(x.end - x.begin);
        }
        for (int pass = 0; pass < 2; ++pass) {  // invariance promises hold
          if (pass == 0 ? !p.batch_invariant() : !p.head_invariant()) continue;
          ref.clear();
          p.row_intervals(pass == 0 ? 0 : b, pass == 0 ? h : 0, q, ref);
          if (ref.size() != iv.size() || !std::equal(ref.begin(), ref.end(), iv.begin(), [](auto& x, auto& y) {
                return x.begin == y.begin && x.end == y.end;
              }))
            return "invariance broken at q=" + std::to_string(q);
        }
      }
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        const BlockRow row = m.row(b, h, qb);
        for (int64_t kb = 0; kb < g.kv_blocks(); ++kb) {
          int64_t n = 0;
          for (int64_t i = qb * g.q_block; i < qb * g.q_block + g.q_rows_in(qb); ++i)
            for (int64_t k = kb * g.kv_block; k < kb * g.kv_block + g.kv_cols_in(kb); ++k)
              n += allowed[static_cast<size_t>(i * g.kv_len + k)];
          const int want = n == 0 ? 0 : n == g.q_rows_in(qb) * g.kv_cols_in(kb) ? 2 : 1;
          const auto* it = std::find(row.kv_block, row.kv_block + row.size, static_cast<uint32_t>(kb));
          const int got = it == row.kv_block + row.size ? 0 : row.partial[it - row.kv_block] ? 1 : 2;
          if (got != want || !std::is_sorted(row.kv_block, row.kv_block + row.size))
            return "block (b=" + std::to_string(b) + ", h=" + std::to_string(h) + ", qb=" + std::to_string(qb) +
                   ", kb=" + std::to_string(kb) + "): got " + std::to_string(got) + ", want " + std::to_string(want);
        }
      }
    }
  }
  if (m.allowed_pairs_stored() >= 0 && m.allowed_pairs_stored() != stored_pairs) return "allowed_pairs differ";
  return "";
}

using TempDir = attnsim_test::CliDir;  // a fresh folder, removed at scope exit

io::NpyArray ints(std::vector<int64_t> shape, const std::vector<int64_t>& values, char kind = 'i', int bytes = 4) {
  io::NpyArray a;
  a.kind = kind;
  a.item_bytes = bytes;
  a.shape = std::move(shape);
  for (int64_t v : values)
    for (int j = 0; j < bytes; ++j) a.data.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * j)));
  return a;
}

void put(std::vector<uint8_t>& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A stored (uncompressed) zip of .npy members, as np.savez writes it.
void write_npz(const TempDir& dir, const std::string& path,
               const std::vector<std::pair<std::string, io::NpyArray>>& members) {
  std::vector<uint8_t> zip, central;
  for (const auto& [name, array] : members) {
    io::write_npy(dir.file("member.npy"), array);
    std::ifstream in(dir.file("member.npy"), std::ios::binary);
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string member = name + ".npy";
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, data.data(), static_cast<uInt>(data.size())));
    const uint64_t offset = zip.size();
    for (auto* out : {&zip, &central}) {
      put(*out, out == &zip ? 0x04034b50 : 0x02014b50, 4);
      if (out == &central) put(*out, 20, 2);
      put(*out, 20, 2), put(*out, 0, 2), put(*out, 0, 2), put(*out, 0, 2), put(*out, 0x21, 2);
      put(*out, crc, 4), put(*out, data.size(), 4), put(*out, data.size(), 4), put(*out, member.size(), 2),
          put(*out, 0, 2);
      if (out == &central) put(*out, 0, 2), put(*out, 0, 2), put(*out, 0, 2), put(*out, 0, 4), put(*out, offset, 4);
      out->insert(out->end(), member.begin(), member.end());
    }
    zip.insert(zip.end(), data.begin(), data.end());
  }
  const uint64_t cd_offset = zip.size();
  zip.insert(zip.end(), central.begin(), central.end());
  put(zip, 0x06054b50, 4), put(zip, 0, 4), put(zip, members.size(), 2), put(zip, members.size(), 2);
  put(zip, central.size(), 4), put(zip, cd_offset, 4), put(zip, 0, 2);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(zip.data()), static_cast<std::streamsize>(zip.size()));
}

}  // namespace

TEST_CASE("every pattern's block_mask agrees with row_intervals on odd sizes", "[patterns]") {
  const std::vector<std::string> specs = {
      "{name: dense}",
      "{name: causal}",
      "{name: sliding_window, window_tokens: 13}",
      "{name: sliding_window, window_tokens: 13, causal: false}",
      "{name: local_global, window_tokens: 9, global_tokens: 5}",
      "{name: local_global, window_tokens: 9, global_tokens: 21, causal: false}",
      "{name: strided, stride_tokens: 7}",
      "{name: fixed, stride_tokens: 10, summary_tokens: 3}",
      "{name: bigbird, block_tokens: 16}",
      "{name: bigbird, block_tokens: 24, window_blocks: 1, global_blocks: 1, random_blocks: 2, causal: true}",
      "{name: block_diagonal, doc_lengths_tokens: [30, 17, 55]}",
      "{name: block_diagonal, doc_lengths_tokens: [30, 17], causal: false}",
      "{name: dilated, window_tokens: 20, dilation: 3}",
      "{name: dilated, window_tokens: 21, dilation: 2, causal: false}",
      "{name: random_block, density: 0.4, block_tokens: 16}",
      "{name: random_block, density: 0.3, block_tokens: 24, causal: true}",
      "{name: random_block, density: 0.5, block_tokens: 8, include_diagonal: false}",
      "{name: relu}",
      "{name: relu, causal: false}",
      "{name: topk, k: 9}",
      "{name: topk, k: 9, causal: false}"};
  // Square prefill, decode-like (q_offset 123, not a block multiple) and q_offset 120 (a multiple of 8 and 24).
  const std::vector<AttentionShape> shapes = {shape(200, 200, 2, 2), shape(77, 200, 2, 1, 1), shape(80, 200, 3)};
  const std::vector<std::pair<int64_t, int64_t>> blocks = {{16, 16}, {24, 24}, {8, 8}, {16, 40}, {32, 8}};
  for (const std::string& spec : specs) {
    for (const AttentionShape& s : shapes) {
      const RandomInputs inputs(s, 7);
      const auto p = make(spec, s, 3, &inputs);
      for (auto [qb, kb] : blocks) {
        INFO(spec << " q_len=" << s.q_len << " kv_len=" << s.kv_len << " blocks " << qb << "x" << kb);
        CHECK(brute_force_mismatch(*p, geom(s, qb, kb)) == "");
      }
    }
  }
}

TEST_CASE("built-in patterns: exact block counts", "[patterns]") {
  MaskStats st = stats("{name: dense}", 512, 128);
  CHECK((st.full_blocks == 16 && st.partial_blocks == 0));
  st = stats("{name: causal}", 512, 128);
  CHECK((st.full_blocks + st.partial_blocks == 10 && st.partial_blocks == 4));
  const AttentionShape decode = shape(1, 1000);  // one query at position 999 sees all 8 blocks, all full
  st = compute_stats(make("{name: causal}", decode)->block_mask(geom(decode, 128, 128)));
  CHECK((st.full_blocks == 8 && st.partial_blocks == 0));
  // Window 128 at block 64: row i >= 2 has blocks i-2 (P), i-1 (F), i (P).
  st = stats("{name: sliding_window, window_tokens: 128}", 1024, 64);
  CHECK((st.full_blocks == 15 && st.partial_blocks == 30));
}

TEST_CASE("local_global, strided, fixed, dilated: rows by hand", "[patterns]") {
  const AttentionShape s = shape(1024, 1024);
  BlockMask m = make("{name: local_global, window_tokens: 64, global_tokens: 128}", s)->block_mask(geom(s, 64, 64));
  CHECK(row_text(m, 0) == "0P");
  CHECK(row_text(m, 1) == "0F 1P");
  CHECK(row_text(m, 2) == "0F 1F 2P");
  CHECK(row_text(m, 5) == "0F 1F 4P 5P");
  MaskStats st = compute_stats(m);
  CHECK((st.full_blocks == 29 && st.partial_blocks == 29));
  m = make("{name: local_global, window_tokens: 64, global_tokens: 64, causal: false}", s)->block_mask(geom(s, 64, 64));
  CHECK(m.row(0, 0, 0).size == 16);  // a global query row sees everything
  CHECK(row_text(m, 7) == "0F 6P 7P 8P");

  const AttentionShape t = shape(256, 256);
  m = make("{name: strided, stride_tokens: 64}", t)->block_mask(geom(t, 32, 32));
  CHECK(row_text(m, 1) == "0F 1P");
  CHECK(row_text(m, 6) == "0P 2P 4P 5F 6P");
  CHECK(row_text(m, 7) == "1P 3P 5P 6F 7P");
  st = compute_stats(m);
  CHECK((st.full_blocks == 7 && st.partial_blocks == 20));

  m = make("{name: fixed, stride_tokens: 64, summary_tokens: 16}", t)->block_mask(geom(t, 32, 32));
  CHECK(row_text(m, 2) == "1P 2P");
  CHECK(row_text(m, 6) == "1P 3P 5P 6P");
  CHECK(row_text(m, 7) == "1P 3P 5P 6F 7P");
  st = compute_stats(m);
  CHECK((st.full_blocks == 4 && st.partial_blocks == 20));
  st = stats("{name: fixed, stride_tokens: 64, summary_tokens: 64}", 256, 64);  // summary == stride: causal
  CHECK((st.full_blocks == 6 && st.partial_blocks == 4));

  st = stats("{name: dilated, window_tokens: 64, dilation: 2}", 256, 32);
  CHECK((st.full_blocks == 0 && st.partial_blocks == 21));
  const auto a = make("{name: dilated, window_tokens: 64, dilation: 1}", t)->block_mask(geom(t, 32, 32));
  const auto b = make("{name: sliding_window, window_tokens: 64}", t)->block_mask(geom(t, 32, 32));
  for (int64_t qb = 0; qb < 8; ++qb) CHECK(row_text(a, qb) == row_text(b, qb));
}

TEST_CASE("bigbird rows hold window + global + r random blocks", "[patterns]") {
  const AttentionShape s = shape(1024, 1024, 4);
  const auto p = make("{name: bigbird}", s, 11);
  CHECK_FALSE(p->head_invariant());
  const BlockMask m = p->block_mask(geom(s, 64, 64));
  bool heads_differ = false;
  for (int64_t h = 0; h < 4; ++h) {
    for (int64_t i = 0; i < 16; ++i) {
      const BlockRow r = m.row(0, h, i);
      std::vector<uint32_t> row(r.kv_block, r.kv_block + r.size);
      CHECK(std::count(r.partial, r.partial + r.size, 1) == 0);
      if (i < 2) {
        CHECK(r.size == 16);
        continue;
      }
      int64_t fixed = 2;  // global blocks 0, 1 plus the window blocks not among them
      for (int64_t w = std::max<int64_t>(2, i - 1); w <= std::min<int64_t>(15, i + 1); ++w) ++fixed;
      CHECK(static_cast<int64_t>(r.size) == fixed + 3);
      for (uint32_t w : {0u, 1u, static_cast<uint32_t>(i - 1), static_cast<uint32_t>(i)})
        CHECK(std::count(row.begin(), row.end(), w) == 1);
      heads_differ = heads_differ || row_text(m, i, h) != row_text(m, i, 0);
    }
  }
  CHECK(heads_differ);
  const BlockMask again = make("{name: bigbird}", s, 11)->block_mask(geom(s, 64, 64));
  const BlockMask other = make("{name: bigbird}", s, 12)->block_mask(geom(s, 64, 64));
  bool seeds_differ = false;
  for (int64_t i = 0; i < 16; ++i) {
    CHECK(row_text(again, i, 3) == row_text(m, i, 3));
    seeds_differ = seeds_differ || row_text(other, i, 3) != row_text(m, i, 3);
  }
  CHECK(seeds_differ);
  // Causal: random blocks only among earlier blocks, so rows fill up as room appears.
  const BlockMask c = make("{name: bigbird, causal: true}", s, 11)->block_mask(geom(s, 64, 64));
  const std::vector<uint32_t> sizes = {1, 2, 3, 4, 5, 6, 7, 7, 7};
  for (size_t i = 0; i < sizes.size(); ++i) CHECK(c.row(0, 1, static_cast<int64_t>(i)).size == sizes[i]);
  CHECK(row_text(c, 3, 1) == "0F 1F 2F 3P");
}

TEST_CASE("bigbird draws its random blocks per row: no table of every row at long context", "[patterns]") {
  // 32 heads x 16384 block rows x 16384 random blocks would be a 34 GB table of picks.
  const AttentionShape s = shape(int64_t{1} << 20, int64_t{1} << 20, 32);
  const auto p = make("{name: bigbird, random_blocks: 1000000000}", s, 5);
  std::vector<Interval> out;
  p->row_intervals(0, 31, 700000, out);  // every block is random, window or global: the whole row
  REQUIRE(out.size() == 1);
  CHECK(out[0].begin == 0);
  CHECK(out[0].end == int64_t{1} << 20);
  // Rows drawn in any order, from two threads, match the row drawn alone (seeded per head and row).
  const auto q = make("{name: bigbird, random_blocks: 5}", s, 5);
  auto row_of = [&](int64_t head, int64_t pos) {
    std::vector<Interval> iv;
    q->row_intervals(0, head, pos, iv);
    std::string text;
    for (const Interval& v : iv) text += std::to_string(v.begin) + "-" + std::to_string(v.end) + " ";
    return text;
  };
  const std::string alone = row_of(7, 500000);
  std::string other_thread;
  std::thread t([&] {
    row_of(7, 900000);
    other_thread = row_of(7, 500000);
  });
  t.join();
  row_of(3, 500000);
  CHECK(row_of(7, 500000) == alone);
  CHECK(other_thread == alone);
  CHECK(row_of(3, 500000) != alone);
}

TEST_CASE("block_diagonal documents", "[patterns]") {
  // Docs [0,100), [100,400), [400,500), [500,512) (the 300 repeats, truncated).
  MaskStats st = stats("{name: block_diagonal, doc_lengths_tokens: [100, 300]}", 512, 128);
  CHECK((st.full_blocks == 1 && st.partial_blocks == 9));
  const AttentionShape s = shape(512, 512);
  const auto p = make("{name: block_diagonal, doc_lengths_tokens: [100, 300]}", s);
  std::vector<Interval> iv;
  p->row_intervals(0, 0, 505, iv);
  REQUIRE(iv.size() == 1);
  CHECK((iv[0].begin == 500 && iv[0].end == 506));
  st = stats("{name: block_diagonal, doc_lengths_tokens: [128], causal: false}", 512, 128);
  CHECK((st.full_blocks == 4 && st.partial_blocks == 0));
}

TEST_CASE("random_block density and determinism", "[patterns]") {
  const AttentionShape s = shape(4096, 4096, 4);
  const std::string spec = "{name: random_block, density: 0.25, block_tokens: 64, include_diagonal: false}";
  const MaskStats st = compute_stats(make(spec, s, 5)->block_mask(geom(s, 64, 64)));
  CHECK(std::abs(st.block_density - 0.25) < 0.02);  // 16384 blocks: sigma = 0.0034
  CHECK(st.partial_blocks == 0);
  const BlockMask a = make(spec, s, 5)->block_mask(geom(s, 64, 64)), b = make(spec, s, 5)->block_mask(geom(s, 64, 64));
  const BlockMask c = make(spec, s, 6)->block_mask(geom(s, 64, 64));
  bool differ = false;
  for (int64_t i = 0; i < 64; ++i) {
    CHECK(row_text(a, i, 2) == row_text(b, i, 2));
    differ = differ || row_text(a, i, 2) != row_text(c, i, 2) || row_text(a, i, 2) != row_text(a, i, 1);
  }
  CHECK(differ);
  const BlockMask d =
      make("{name: random_block, density: 0.1, block_tokens: 64, causal: true}", s)->block_mask(geom(s, 64, 64));
  for (int64_t i = 0; i < 64; ++i) {
    const BlockRow r = d.row(0, 0, i);
    REQUIRE(r.size > 0);
    CHECK(r.kv_block[r.size - 1] == i);  // the diagonal is kept and nothing after it
    CHECK(r.partial[r.size - 1] == 1);
  }
}

TEST_CASE("relu and topk match a float64 reference", "[patterns]") {
  for (const AttentionShape& s : {shape(77, 77, 2, 1, 1), shape(5, 77, 2, 1, 1)}) {
    const RandomInputs in(s, 42);
    std::vector<float> q(16), k(16);
    auto score = [&](int64_t h, int64_t i, int64_t key) {
      in.row(Tensor::q, 0, h, i, q.data());
      in.row(Tensor::k, 0, 0, key, k.data());  // GQA: both query heads read KV head 0
      double d = 0;
      for (int j = 0; j < 16; ++j) d += static_cast<double>(q[j]) * k[j];
      return d;
    };
    for (bool causal : {true, false}) {
      const std::string c = causal ? "true" : "false";
      const auto relu = make("{name: relu, causal: " + c + "}", s, 1, &in);
      const auto topk = make("{name: topk, k: 10, causal: " + c + "}", s, 1, &in);
      CHECK_FALSE(relu->head_invariant());
      for (int64_t h = 0; h < 2; ++h) {
        for (int64_t i = 0; i < s.q_len; ++i) {
          const int64_t pos = s.q_offset() + i, n = causal ? pos + 1 : s.kv_len;
          std::vector<uint8_t> got_relu(77, 0), got_topk(77, 0);
          std::vector<Interval> iv;
          relu->row_intervals(0, h, pos, iv);
          for (auto x : iv) std::fill(got_relu.begin() + x.begin, got_relu.begin() + x.end, 1);
          iv.clear();
          topk->row_intervals(0, h, pos, iv);
          for (auto x : iv) std::fill(got_topk.begin() + x.begin, got_topk.begin() + x.end, 1);
          std::vector<double> sc(static_cast<size_t>(n));
          for (int64_t key = 0; key < n; ++key) sc[static_cast<size_t>(key)] = score(h, i, key);
          std::vector<double> sorted = sc;
          std::sort(sorted.begin(), sorted.end(), std::greater<>());
          const double kth = sorted[static_cast<size_t>(std::min<int64_t>(10, n) - 1)];
          CHECK(std::count(got_topk.begin(), got_topk.end(), 1) == std::min<int64_t>(10, n));
          for (int64_t key = 0; key < 77; ++key) {
            const double x = key < n ? sc[static_cast<size_t>(key)] : -1e300;
            const bool near_zero = std::abs(x) < 1e-4, near_kth = std::abs(x - kth) < 1e-4;
            if (!near_zero) CHECK(got_relu[static_cast<size_t>(key)] == (key < n && x > 0));
            if (!near_kth) CHECK(got_topk[static_cast<size_t>(key)] == (key < n && x >= kth));
          }
        }
      }
    }
  }
}

TEST_CASE("file: FlexAttention BlockMask .npz keeps its full/partial classification", "[patterns]") {
  const std::string dir = std::string(ATTNSIM_TEST_DIR) + "/fixtures/npz";
  const AttentionShape s = shape(512, 512, 2);
  for (const char* name : {"flex_blockmask_small.npz", "flex_blockmask_small_compressed.npz"}) {
    const auto p = make(std::string("{name: file, path: ") + name + "}", s, 1, nullptr, dir);
    CHECK_FALSE(p->element_exact());
    BlockMask m = p->block_mask(geom(s, 128, 128));
    MaskStats st = compute_stats(m);
    CHECK((st.full_blocks == 12 && st.partial_blocks == 8));  // causal on 4 blocks, 2 heads
    CHECK(row_text(m, 2, 1) == "0F 1F 2P");
    st = compute_stats(p->block_mask(geom(s, 64, 64)));  // re-binned: the union of whole 128-blocks
    CHECK((st.full_blocks == 80 && st.partial_blocks == 0));
    CHECK(brute_force_mismatch(*p, geom(s, 96, 40)) == "");
  }
  // Decode-like: 256 queries at the end of 1024 keys, blocks [q 128, kv 256], broadcast over heads.
  TempDir tmp;
  const AttentionShape d = shape(256, 1024, 4);
  auto flex = [&](std::vector<int64_t> num, std::vector<int64_t> idx, std::vector<int64_t> full_num,
                  std::vector<int64_t> full_idx, std::vector<int64_t> bs = {128, 256},
                  std::vector<int64_t> qshape = {1, 1, 2}) {
    std::vector<int64_t> ishape = qshape;
    ishape.push_back(4);
    write_npz(tmp, tmp.file("m.npz"),
              {{"kv_num_blocks", ints(qshape, num)},
               {"kv_indices", ints(ishape, idx)},
               {"full_kv_num_blocks", ints(qshape, full_num)},
               {"full_kv_indices", ints(ishape, full_idx, 'i', 8)},
               {"block_size", ints({2}, bs)},
               {"seq_lengths", ints({2}, {256, 1024}, 'i', 8)}});
    return make("{name: file, path: m.npz}", d, 1, nullptr, tmp.path.string());
  };
  const auto p = flex({1, 2}, {3, 0, 0, 0, 0, 3, 0, 0}, {2, 1}, {1, 0, 0, 0, 2, 0, 0, 0});
  CHECK((p->head_invariant() && p->batch_invariant()));
  const BlockMask m = p->block_mask(geom(d, 128, 256));
  CHECK(row_text(m, 0) == "0F 1F 3P");
  CHECK(row_text(m, 1, 3) == "0P 2F 3P");
  std::vector<Interval> iv;
  p->row_intervals(0, 0, 768 + 130, iv);  // query index 130: query block 1
  REQUIRE(iv.size() == 2);
  CHECK((iv[0].begin == 0 && iv[0].end == 256 && iv[1].begin == 512 && iv[1].end == 1024));
  CHECK(brute_force_mismatch(*p, geom(d, 64, 128)) == "");

  using Catch::Contains;
  const std::vector<int64_t> ok_idx = {3, 0, 0, 0, 0, 3, 0, 0}, none = {0, 0, 0, 0, 0, 0, 0, 0};
  CHECK_THROWS_WITH(flex({1, 2}, {4, 0, 0, 0, 0, 3, 0, 0}, {0, 0}, none),
                    Contains("m.npz") && Contains("kv_indices[0, 0, 0, 0] = 4 is out of range [0, 4)"));
  CHECK_THROWS_WITH(flex({5, 2}, ok_idx, {0, 0}, none), Contains("kv_num_blocks[0, 0, 0] = 5 is outside [0, 4]"));
  CHECK_THROWS_WITH(flex({1, -1}, ok_idx, {0, 0}, none), Contains("= -1 is outside"));
  CHECK_THROWS_WITH(flex({1, 2}, ok_idx, {1, 0}, {3, 0, 0, 0, 0, 0, 0, 0}), Contains("listed twice"));
  CHECK_THROWS_WITH(flex({1, 2}, ok_idx, {0, 0}, none, {128, 128}),
                    Contains("kv_indices has shape (1, 1, 2, 4) but the workload (batch=1, q_heads=4, q_len=256, "
                             "kv_len=1024) needs (1, 1 or 4, 2, 8)"));
  CHECK_THROWS_WITH(flex({1, 2, 1, 2, 1, 2}, std::vector<int64_t>(24, 0), std::vector<int64_t>(6, 0),
                         std::vector<int64_t>(24, 0), {128, 256}, {1, 3, 2}),
                    Contains("kv_num_blocks has shape (1, 3, 2)"));
  write_npz(tmp, tmp.file("f.npz"),
            {{"kv_num_blocks", ints({1, 1, 2}, {1, 1})},
             {"kv_indices", io::make_f4({1, 1, 2, 4}, std::vector<float>(8, 0))}});
  CHECK_THROWS_WITH(make("{name: file, path: f.npz}", d, 1, nullptr, tmp.path.string()),
                    Contains("kv_indices has a float dtype"));
  write_npz(tmp, tmp.file("s.npz"),
            {{"kv_num_blocks", ints({1, 1, 2}, {1, 1})},
             {"kv_indices", ints({1, 1, 2, 8}, std::vector<int64_t>(16, 0))},
             {"seq_lengths", ints({2}, {512, 1024})}});
  CHECK_THROWS_WITH(make("{name: file, path: s.npz}", d, 1, nullptr, tmp.path.string()),
                    Contains("seq_lengths is (512, 1024)"));
  CHECK_THROWS_WITH(make("{name: file, path: s.npz, block_tokens: 64}", d, 1, nullptr, tmp.path.string()),
                    Contains("does not apply"));
}

TEST_CASE("file: .npy block bitmaps and element masks", "[patterns]") {
  TempDir tmp;
  const AttentionShape s = shape(256, 256, 2);
  std::vector<int64_t> bits(2 * 4 * 4, 0);
  for (int64_t i : {0, 5, 6, 10, 15, 16 + 3, 16 + 12}) bits[static_cast<size_t>(i)] = 1;
  io::write_npy(tmp.file("bitmap.npy"), ints({2, 4, 4}, bits, 'b', 1));
  const auto p = make("{name: file, path: " + tmp.file("bitmap.npy") + ", block_tokens: 64}", s);
  CHECK_FALSE(p->head_invariant());
  const BlockMask m = p->block_mask(geom(s, 64, 64));
  CHECK(row_text(m, 1, 0) == "1F 2F");
  CHECK(row_text(m, 0, 1) == "3F");
  CHECK(compute_stats(m).full_blocks == 7);
  CHECK(brute_force_mismatch(*p, geom(s, 48, 100)) == "");
  using Catch::Contains;
  CHECK_THROWS_WITH(
      make("{name: file, path: " + tmp.file("bitmap.npy") + "}", s),
      Contains("bitmap.npy: mask has shape (2, 4, 4)") && Contains("(Qb, Kb) = (2, 2) at block_tokens=128"));
  bits[3] = 2;
  io::write_npy(tmp.file("two.npy"), ints({2, 4, 4}, bits, 'u', 2));
  CHECK_THROWS_WITH(make("{name: file, path: " + tmp.file("two.npy") + ", block_tokens: 64}", s),
                    Contains("mask value 2"));
  io::write_npy(tmp.file("float.npy"), io::make_f4({4, 4}, std::vector<float>(16, 1)));
  CHECK_THROWS_WITH(make("{name: file, path: " + tmp.file("float.npy") + ", block_tokens: 64}", s),
                    Contains("float dtype"));

  // Element mask [q_len, kv_len] for a decode-like shape: exact.
  const AttentionShape e = shape(37, 150, 3);
  std::vector<int64_t> el(37 * 150);
  for (size_t i = 0; i < el.size(); ++i) el[i] = (mix64(i) % 3 == 0) || (i / 150 < 10 && i % 150 < 70);
  io::write_npy(tmp.file("elem.npy"), ints({37, 150}, el, 'b', 1));
  const auto q = make("{name: file, path: elem.npy}", e, 1, nullptr, tmp.path.string());
  CHECK(q->element_exact());
  std::vector<Interval> iv;
  q->row_intervals(0, 2, 113 + 4, iv);  // query index 4
  int64_t n = 0;
  for (auto x : iv) n += x.end - x.begin;
  CHECK(n == std::count(el.begin() + 4 * 150, el.begin() + 5 * 150, 1));
  for (auto [qb, kb] : std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {8, 64}, {37, 150}})
    CHECK(brute_force_mismatch(*q, geom(e, qb, kb)) == "");
}

TEST_CASE("patterns reject bad input with clear messages", "[patterns]") {
  using Catch::Contains;
  const AttentionShape s = shape(256, 256);
  auto err = [&](const std::string& yaml) {
    try {
      make(yaml, s);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(err("{name: slidng_window, window_tokens: 4}"),
             Contains("did you mean 'sliding_window'") && Contains("bigbird, block_diagonal"));
  CHECK_THAT(err("{name: sliding_window, window_tokens: 4, casual: true}"),
             Contains("unknown key 'casual' (did you mean 'causal'?)"));
  CHECK_THAT(err("{name: bigbird, random_block: 2}"),
             Contains("unknown key 'random_block' (did you mean 'random_blocks'?)"));
  CHECK_THAT(err("{name: sliding_window, window_tokens: -5}"), Contains("window_tokens: value -5 is out of range"));
  CHECK_THAT(err("{name: dilated, window_tokens: 8, dilation: 0}"), Contains("dilation: value 0 is out of range"));
  CHECK_THAT(err("{name: random_block, density: 1.5}"), Contains("density: value 1.5 is out of range"));
  CHECK_THAT(err("{name: random_block, density: 0}"), Contains("density: must be > 0"));
  CHECK_THAT(err("{name: bigbird, window_blocks: 4}"), Contains("window_blocks: must be odd"));
  CHECK_THAT(err("{name: fixed, stride_tokens: 8, summary_tokens: 9}"),
             Contains("summary_tokens: value 9 is out of range [1, 8]"));
  CHECK_THAT(err("{name: strided}"), Contains("stride_tokens: missing required key"));
  CHECK_THAT(err("{name: block_diagonal, doc_lengths_tokens: [64, 0]}"), Contains("out of range"));
  CHECK_THAT(err("{name: topk, k: 4}"), Contains("derives its mask from Q/K data"));
  CHECK_THAT(err("{name: file, path: does/not/exist.npz}"), Contains("path: no such file 'does/not/exist.npz'"));
  CHECK_THAT(err("{name: file, path: " + std::string(ATTNSIM_TEST_DIR) + "/test_patterns.cpp}"),
             Contains("unsupported extension"));
  const AttentionShape big = shape(200000, 200000);
  const RandomInputs in(big, 1);
  CHECK_THROWS_WITH(make("{name: relu}", big, 1, &in),
                    Contains("pattern 'relu' needs 4.66 GiB of mask") && Contains("reduce q_len/kv_len"));
}

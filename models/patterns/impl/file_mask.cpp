// Pattern "file": a mask read from disk. `path` is resolved against the workload's
// directory (ctx.base_dir), then the current directory. Formats, by extension and shape:
//  (a) .npz with a FlexAttention BlockMask's tensors (integer dtypes):
//        kv_num_blocks [B,H,Qb], kv_indices [B,H,Qb,Kb]           PARTIAL blocks (mask_mod applied)
//        full_kv_num_blocks [B,H,Qb], full_kv_indices [B,H,Qb,Kb] FULL blocks (optional pair)
//        block_size [q_block, kv_block] or a scalar (default 128), seq_lengths [q_len, kv_len] (optional)
//      kv_indices[b,h,i,:kv_num_blocks[b,h,i]] lists the partial KV blocks of query block i.
//      B / H are 1 (broadcast) or the workload's batch / q_heads; Qb = ceil(q_len / q_block)
//      counts blocks of the q_len queries (decode: q_len < kv_len), Kb = ceil(kv_len / kv_block).
//  (b) .npy block bitmap, bool or 0/1 integers, [Qb,Kb], [H,Qb,Kb] or [B,H,Qb,Kb] at
//      block_tokens (default 128) for both sides; every set block counts as full.
//  (c) .npy element mask [q_len, kv_len], bool or 0/1 integers: exact element truth.
// For (a)/(b) the truth is block-level: row_intervals is the union of the listed blocks,
// element_exact() is false, and block_mask() at the file's own block sizes returns the
// file's full/partial classification exactly (at other sizes the union is re-binned).
#include <algorithm>
#include <filesystem>

#include "models/patterns/data_mask.h"
#include "sim/core/error.h"
#include "sim/io/npy.h"

namespace attnsim {
namespace {

namespace fs = std::filesystem;

std::string dims(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

bool is_int(const io::NpyArray& a) { return a.kind == 'i' || a.kind == 'u' || a.kind == 'b'; }

// Element i of an integer or bool array (held little-endian).
int64_t int_at(const io::NpyArray& a, size_t i) {
  const uint8_t* p = a.data.data() + i * static_cast<size_t>(a.item_bytes);
  uint64_t raw = 0;
  for (int j = 0; j < a.item_bytes; ++j) raw |= uint64_t{p[j]} << (8 * j);
  const int bits = a.item_bytes * 8;
  if (a.kind == 'i' && bits < 64) return static_cast<int64_t>(raw << (64 - bits)) >> (64 - bits);
  return static_cast<int64_t>(raw);
}

struct Source {
  std::string file;
  AttentionShape s;
  std::string blocks;  // e.g. " at block_size (128, 128)", for shape messages
  [[noreturn]] void bad(const std::string& what) const { throw Error(file + ": " + what); }
  std::string workload() const {
    return "the workload (batch=" + std::to_string(s.batch) + ", q_heads=" + std::to_string(s.q_heads) +
           ", q_len=" + std::to_string(s.q_len) + ", kv_len=" + std::to_string(s.kv_len) + ")";
  }
  void require_int(const io::NpyArray& a, const std::string& name) const {
    if (!is_int(a)) bad(name + " has a float dtype; expected integers (save it with .to(torch.int32))");
  }
  // Checks [B, H, Qb(, Kb)]: B and H are 1 or the workload's.
  void check_bh(const io::NpyArray& a, const std::string& name, const std::vector<int64_t>& tail) const {
    const size_t n = 2 + tail.size();
    bool ok = a.shape.size() == n && (a.shape[0] == 1 || a.shape[0] == s.batch) &&
              (a.shape[1] == 1 || a.shape[1] == s.q_heads);
    for (size_t i = 0; ok && i < tail.size(); ++i) ok = a.shape[2 + i] == tail[i];
    if (ok) return;
    auto one_or = [](int64_t n) { return n == 1 ? std::string("1") : "1 or " + std::to_string(n); };
    std::string want = "(" + one_or(s.batch) + ", " + one_or(s.q_heads);
    for (int64_t t : tail) want += ", " + std::to_string(t);
    bad(name + " has shape " + dims(a.shape) + " but " + workload() + " needs " + want +
        ") = [batch, heads, query blocks" + (tail.size() > 1 ? ", kv blocks]" : "]") + blocks +
        "; regenerate the mask for this shape or fix the workload's lengths");
  }
};

// Block-level truth from a file, stored as a BlockMask at the file's own block sizes.
class BlockFile final : public ISparsityPattern {
 public:
  BlockFile(BlockMask own, double pairs, std::string desc)
      : own_(std::move(own)), pairs_(pairs), desc_(std::move(desc)) {}

  void row_intervals(int64_t b, int64_t h, int64_t q_pos, std::vector<Interval>& out) const override {
    const BlockGeometry& g = own_.geometry();
    const int64_t i = q_pos - g.q_offset;
    if (i < 0 || i >= g.q_len) return;
    const BlockRow row = own_.row(b, h, i / g.q_block);
    const size_t first = out.size();
    for (uint32_t j = 0; j < row.size; ++j) {
      const int64_t lo = row.kv_block[j] * g.kv_block, hi = std::min(lo + g.kv_block, g.kv_len);
      if (out.size() > first && out.back().end == lo) {
        out.back().end = hi;
      } else {
        out.push_back({lo, hi});
      }
    }
  }
  bool batch_invariant() const override { return own_.mask_batch() == 1; }
  bool head_invariant() const override { return own_.mask_heads() == 1; }
  bool element_exact() const override { return false; }
  BlockMask block_mask(const BlockGeometry& g) const override {
    const BlockGeometry& o = own_.geometry();
    const bool same = g.q_block == o.q_block && g.kv_block == o.kv_block && g.q_len == o.q_len &&
                      g.kv_len == o.kv_len && g.q_offset == o.q_offset &&
                      (own_.mask_batch() == 1 || g.batch == o.batch) && (own_.mask_heads() == 1 || g.heads == o.heads);
    if (!same) return classify_blocks(*this, g);
    BlockMask m(g, own_.mask_batch(), own_.mask_heads());
    for (int64_t r = 0; r < own_.rows(); ++r) {
      const BlockRow row = own_.row(r);
      for (uint32_t j = 0; j < row.size; ++j) m.append(row.kv_block[j], row.partial[j] != 0);
      m.end_row();
    }
    m.set_allowed_pairs(pairs_);  // the union of the listed blocks, as classify_blocks counts it
    return m;
  }
  std::string describe() const override { return desc_; }

 private:
  BlockMask own_;
  double pairs_;
  std::string desc_;
};

class ElementFile final : public BitMaskPattern {
 public:
  ElementFile(BitMask mask, int64_t q_offset, std::string desc)
      : BitMaskPattern(std::move(mask), q_offset), desc_(std::move(desc)) {}
  std::string describe() const override { return desc_; }

 private:
  std::string desc_;
};

// Builds the BlockMask row by row; fill(b, h, qb, state) marks state[kb] = 1 partial, 2 full.
template <class Fill>
std::unique_ptr<ISparsityPattern> build(const Source& src, int64_t qbs, int64_t kvbs, int64_t mb, int64_t mh, Fill fill,
                                        const std::string& desc) {
  BlockGeometry g{src.s.batch, src.s.q_heads, src.s.q_len, src.s.kv_len, src.s.q_offset(), qbs, kvbs};
  BlockMask m(g, mb, mh);
  const int64_t kv_blocks = g.kv_blocks();  // hoisted: the append calls keep the compiler from it
  std::vector<uint8_t> state(static_cast<size_t>(kv_blocks), 0);
  double pairs = 0;
  for (int64_t b = 0; b < mb; ++b) {
    for (int64_t h = 0; h < mh; ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        fill(b, h, qb, state);
        for (int64_t kb = 0; kb < kv_blocks; ++kb) {
          uint8_t& st = state[static_cast<size_t>(kb)];
          if (st == 0) continue;
          m.append(static_cast<uint32_t>(kb), st == 1);
          pairs += static_cast<double>(g.q_rows_in(qb) * g.kv_cols_in(kb));
          st = 0;
        }
        m.end_row();
      }
    }
  }
  return std::make_unique<BlockFile>(std::move(m), pairs, desc);
}

std::unique_ptr<ISparsityPattern> load_flex(Source& src, const std::map<std::string, io::NpyArray>& z) {
  auto get = [&](const std::string& name) -> const io::NpyArray* {
    auto it = z.find(name);
    if (it == z.end()) return nullptr;
    src.require_int(it->second, name);
    return &it->second;
  };
  int64_t qbs = 128, kvbs = 128;
  if (const io::NpyArray* bs = get("block_size")) {
    if (bs->size() < 1 || bs->size() > 2) src.bad("block_size must be [q_block, kv_block] or one number");
    qbs = int_at(*bs, 0);
    kvbs = int_at(*bs, bs->size() == 2 ? 1 : 0);
    if (qbs <= 0 || kvbs <= 0 || qbs > (int64_t{1} << 40) || kvbs > (int64_t{1} << 40))
      src.bad("block_size " + dims({qbs, kvbs}) + " is not a plausible pair of positive block sizes");
  }
  if (const io::NpyArray* sl = get("seq_lengths")) {
    if (sl->size() != 2 || int_at(*sl, 0) != src.s.q_len || int_at(*sl, 1) != src.s.kv_len) {
      src.bad("seq_lengths is " +
              dims(sl->size() == 2 ? std::vector<int64_t>{int_at(*sl, 0), int_at(*sl, 1)} : sl->shape) + " but " +
              src.workload() + " needs (q_len, kv_len) = " + dims({src.s.q_len, src.s.kv_len}));
    }
  }
  const int64_t qb = (src.s.q_len + qbs - 1) / qbs, kb = (src.s.kv_len + kvbs - 1) / kvbs;
  src.blocks = " at block_size " + dims({qbs, kvbs});
  const io::NpyArray *num = get("kv_num_blocks"), *idx = get("kv_indices");
  const io::NpyArray *fnum = get("full_kv_num_blocks"), *fidx = get("full_kv_indices");
  if (!num || !idx) src.bad("not a FlexAttention BlockMask: kv_num_blocks and kv_indices are required");
  if (!fnum != !fidx) src.bad("full_kv_num_blocks and full_kv_indices must be given together");
  src.check_bh(*num, "kv_num_blocks", {qb});
  src.check_bh(*idx, "kv_indices", {qb, kb});
  if (idx->shape[0] != num->shape[0] || idx->shape[1] != num->shape[1])
    src.bad("kv_indices and kv_num_blocks disagree on [B, H]");
  if (fnum) {
    src.check_bh(*fnum, "full_kv_num_blocks", {qb});
    src.check_bh(*fidx, "full_kv_indices", {qb, kb});
    if (fnum->shape != num->shape || fidx->shape != idx->shape) src.bad("full_kv_* and kv_* disagree on [B, H]");
  }
  auto fill = [&](int64_t b, int64_t h, int64_t i, std::vector<uint8_t>& state) {
    for (int full = 0; full < (fnum ? 2 : 1); ++full) {
      const io::NpyArray& n = full ? *fnum : *num;
      const io::NpyArray& x = full ? *fidx : *idx;
      const std::string nn = full ? "full_kv_num_blocks" : "kv_num_blocks",
                        xn = full ? "full_kv_indices" : "kv_indices";
      const size_t row = static_cast<size_t>((b * num->shape[1] + h) * qb + i);
      const int64_t count = int_at(n, row);
      const std::string at = "[" + std::to_string(b) + ", " + std::to_string(h) + ", " + std::to_string(i);
      if (count < 0 || count > kb)
        src.bad(nn + at + "] = " + std::to_string(count) + " is outside [0, " + std::to_string(kb) +
                "] (Kb = ceil(kv_len / kv_block))");
      for (int64_t j = 0; j < count; ++j) {
        const int64_t k = int_at(x, row * static_cast<size_t>(kb) + static_cast<size_t>(j));
        const std::string here = xn + at + ", " + std::to_string(j) + "] = " + std::to_string(k);
        if (k < 0 || k >= kb) src.bad(here + " is out of range [0, " + std::to_string(kb) + ")");
        uint8_t& st = state[static_cast<size_t>(k)];
        if (st != 0) src.bad(here + ": KV block listed twice for this query block");
        st = full ? 2 : 1;
      }
    }
  };
  const std::string desc =
      "file(" + src.file + ", FlexAttention BlockMask " + std::to_string(qbs) + "x" + std::to_string(kvbs) + ")";
  return build(src, qbs, kvbs, num->shape[0], num->shape[1], fill, desc);
}

std::unique_ptr<ISparsityPattern> load_npy(const Source& src, const io::NpyArray& a, MapReader& r) {
  if (!is_int(a)) src.bad("mask has a float dtype; expected bool or 0/1 integers (save it with .astype(bool))");
  const int64_t bt = r.integer("block_tokens", 1, int64_t{1} << 40, 128);
  for (size_t i = 0, n = static_cast<size_t>(a.size()); i < n; ++i) {
    const int64_t v = int_at(a, i);
    if (v != 0 && v != 1)
      src.bad("mask value " + std::to_string(v) + " at flat index " + std::to_string(i) + " is not 0 or 1");
  }
  const AttentionShape& s = src.s;
  if (a.shape == std::vector<int64_t>{s.q_len, s.kv_len}) {
    if (r.has("block_tokens"))
      r.fail("block_tokens", "does not apply: " + src.file + " is an element mask [q_len, kv_len]");
    BitMask mask(1, 1, s.q_len, s.kv_len, "file '" + src.file + "'");
    for (int64_t i = 0; i < s.q_len; ++i) {
      uint64_t* row = mask.row(0, 0, i);
      for (int64_t k = 0; k < s.kv_len; ++k) {
        if (int_at(a, static_cast<size_t>(i * s.kv_len + k)) != 0) BitMask::set(row, k);
      }
    }
    return std::make_unique<ElementFile>(std::move(mask), s.q_offset(), "file(" + src.file + ", element mask)");
  }
  const int64_t qb = (s.q_len + bt - 1) / bt, kb = (s.kv_len + bt - 1) / bt;
  const size_t nd = a.shape.size();
  const bool ok = nd >= 2 && nd <= 4 && a.shape[nd - 2] == qb && a.shape[nd - 1] == kb &&
                  (nd < 3 || a.shape[nd - 3] == 1 || a.shape[nd - 3] == s.q_heads) &&
                  (nd < 4 || a.shape[0] == 1 || a.shape[0] == s.batch);
  if (!ok) {
    src.bad("mask has shape " + dims(a.shape) + " but " + src.workload() + " needs an element mask " +
            dims({s.q_len, s.kv_len}) + " or a block bitmap [Qb, Kb], [H, Qb, Kb] or [B, H, Qb, Kb] with (Qb, Kb) = " +
            dims({qb, kb}) + " at block_tokens=" + std::to_string(bt) + " (H = 1 or " + std::to_string(s.q_heads) +
            ", B = 1 or " + std::to_string(s.batch) + "); set block_tokens or fix the workload's lengths");
  }
  const int64_t mb = nd == 4 ? a.shape[0] : 1, mh = nd >= 3 ? a.shape[nd - 3] : 1;
  auto fill = [&](int64_t b, int64_t h, int64_t i, std::vector<uint8_t>& state) {
    const size_t base = static_cast<size_t>(((b * mh + h) * qb + i) * kb);
    for (int64_t k = 0; k < kb; ++k) state[static_cast<size_t>(k)] = int_at(a, base + static_cast<size_t>(k)) ? 2 : 0;
  };
  return build(src, bt, bt, mb, mh, fill, "file(" + src.file + ", block bitmap " + std::to_string(bt) + ")");
}

std::unique_ptr<ISparsityPattern> create(MapReader& r, const PatternContext& ctx) {
  const std::string path = r.string("path");
  fs::path file = path;
  std::error_code ec;
  if (file.is_relative() && !ctx.base_dir.empty() && fs::exists(fs::path(ctx.base_dir) / file, ec)) {
    file = fs::path(ctx.base_dir) / file;
  } else if (!fs::exists(file, ec)) {
    r.fail("path", "no such file '" + path + "'" +
                       (file.is_relative() && !ctx.base_dir.empty()
                            ? " (looked in '" + ctx.base_dir + "' and the current directory)"
                            : ""));
  }
  const std::string ext = file.extension().string();
  Source src{file.string(), ctx.shape, ""};
  if (ext == ".npz") {
    if (r.has("block_tokens")) r.fail("block_tokens", "does not apply to .npz files (their block_size array sets it)");
    return load_flex(src, io::read_npz(src.file));
  }
  if (ext == ".npy") return load_npy(src, io::read_npy(src.file), r);
  r.fail("path", "'" + path +
                     "' has an unsupported extension; expected .npz (FlexAttention BlockMask) or .npy (block bitmap or "
                     "element mask)");
}

const Registrar<PatternEntry> kRegister(
    "file",
    PatternEntry{
        "mask from a file: FlexAttention BlockMask (.npz), block bitmap or element mask (.npy)",
        {{"path", "string", "", ".npz / .npy file, relative to the workload's directory (then the current one)"},
         {"block_tokens", "integer", "128", "block size of a .npy block bitmap (not for .npz / element masks)"}},
        false,
        create});

}  // namespace
}  // namespace attnsim

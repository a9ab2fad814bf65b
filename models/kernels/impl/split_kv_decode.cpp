// Flash-decoding: for few query rows against a long KV cache, split each row's
// KV blocks over several work units so the whole GPU is busy, then merge the
// partial results (log-sum-exp) in combine units. GQA heads sharing a KV head
// are packed into one unit so K/V are read once per group.
#include <algorithm>
#include <cmath>

#include "models/kernels/i_kernel.h"

namespace attnsim {
namespace {

class SplitKvDecode final : public IKernel {
 public:
  explicit SplitKvDecode(KernelSpec spec) : spec_(std::move(spec)) {}
  const KernelSpec& spec() const override { return spec_; }

  BlockGeometry block_geometry(const AttentionShape& shape) const override {
    BlockGeometry g = IKernel::block_geometry(shape);
    // Few new tokens share one tile row; a prefill's rows take the tile's q_block each.
    g.q_block = std::max<int64_t>(std::min(shape.q_len, g.q_block), 1);
    return g;
  }

  std::string dispatch(const AttentionShape& shape, const HwSpec& hw) const override {
    const auto& h = spec_.split_heuristic;
    if (!h.present || h.one_pass_kernel.empty()) return "";
    return fills_slots(rows(shape, block_geometry(shape).q_blocks(), pack(shape, 1)), hw) ? h.one_pass_kernel : "";
  }

  bool would_split(const AttentionShape& shape, const HwSpec& hw) const override {
    if (!dispatch(shape, hw).empty()) return false;
    const BlockGeometry g = block_geometry(shape);
    return splits(rows(shape, g.q_blocks(), pack(shape, 1)), g.kv_blocks(), hw) > 1;
  }

  Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                   const HwSpec& hw) const override {
    require_matrix_path(spec_, hw);
    // A prefill reaches this kernel from FA2 (split_kernel), whose split kernel bounds its KV loop
    // like the forward kernel: it visits every block between a row's first and last.
    if (shape.phase == Phase::prefill) mask = std::make_shared<const BlockMask>(contiguous_cover(*mask));
    TraceTiling tiling;
    tiling.q_block = mask->geometry().q_block;
    tiling.kv_block = mask->geometry().kv_block;
    tiling.pack_gqa = pack(shape, mask->mask_heads());
    const int64_t r = rows(shape, mask->geometry().q_blocks(), tiling.pack_gqa);
    const int64_t kv_blocks = mask->geometry().kv_blocks();
    tiling.kv_splits = splits(r, kv_blocks, hw);
    return Trace(shape, tiling, mask, make_units(shape, tiling, *mask), spec_.name);
  }

 private:
  // GQA groups fold into query rows for decode, not for a prefill (FA2 swaps them at one query;
  // decode here also covers a few new tokens).
  bool pack(const AttentionShape& shape, int64_t mask_heads) const {
    return spec_.pack_gqa && shape.phase == Phase::decode && mask_heads == 1 && shape.group_size() > 1;
  }
  static int64_t rows(const AttentionShape& shape, int64_t q_blocks, bool packed) {
    return std::max<int64_t>(1, shape.batch * (packed ? shape.kv_heads : shape.q_heads) * q_blocks);
  }
  double slots(const HwSpec& hw) const { return spec_.split_heuristic.slots_per_sm * static_cast<double>(hw.units); }
  // Enough rows to (almost) fill the slots without splitting.
  bool fills_slots(int64_t r, const HwSpec& hw) const {
    return static_cast<double>(r) >= spec_.split_heuristic.one_pass_fill * slots(hw);
  }

  int64_t splits(int64_t r, int64_t kv_blocks, const HwSpec& hw) const {
    return spec_.split_heuristic.present ? wave_splits(r, kv_blocks, hw) : slot_splits(r, kv_blocks, hw);
  }

  // Without a heuristic: two units per SM, rounded up (the fewest splits that fill the slots) or,
  // with splits_within_one_wave, down (the most that still run in one wave: cuDNN's decode), and
  // then no more splits than its blocks per split need (33 splits of 256 blocks are 32 of 8).
  int64_t slot_splits(int64_t r, int64_t kv_blocks, const HwSpec& hw) const {
    const int64_t slots = 2 * static_cast<int64_t>(hw.units);
    if (!spec_.splits_within_one_wave) return std::clamp<int64_t>((slots + r - 1) / r, 1, spec_.max_kv_splits);
    const int64_t s = std::clamp<int64_t>(slots / r, 1, std::min(spec_.max_kv_splits, std::max<int64_t>(kv_blocks, 1)));
    const int64_t per_split = (kv_blocks + s - 1) / s;
    return std::max<int64_t>(1, (kv_blocks + per_split - 1) / per_split);
  }

  // FlashAttention-2's rule: no split when the rows almost fill the slots; otherwise
  // the smallest split count whose last wave is within `wave_efficiency` of the best
  // fill, counting only split counts that change the blocks per split.
  int64_t wave_splits(int64_t r, int64_t kv_blocks, const HwSpec& hw) const {
    const auto& h = spec_.split_heuristic;
    if (fills_slots(r, hw)) return 1;
    const double n_slots = slots(hw);
    const int64_t most = std::max<int64_t>(1, std::min({spec_.max_kv_splits, static_cast<int64_t>(n_slots), kv_blocks}));
    auto eligible = [kv_blocks](int64_t s) {
      return s == 1 || (kv_blocks + s - 1) / s != (kv_blocks + s - 2) / (s - 1);
    };
    auto fill = [&](int64_t s) {
      const double waves = static_cast<double>(r * s) / n_slots;
      return waves / std::ceil(waves);
    };
    double best = 0;
    for (int64_t s = 1; s <= most; ++s) {
      if (eligible(s)) best = std::max(best, fill(s));
    }
    for (int64_t s = 1; s <= most; ++s) {
      if (eligible(s) && fill(s) >= h.wave_efficiency * best) return s;
    }
    return 1;
  }

  KernelSpec spec_;
};

std::unique_ptr<IKernel> create(KernelSpec spec) { return std::make_unique<SplitKvDecode>(std::move(spec)); }

const Registrar<KernelEntry> kRegister("split_kv_decode",
                                       KernelEntry{"flash-decoding: split-KV decode with a combine pass", create});

}  // namespace
}  // namespace attnsim

// Flash-decoding: for few query rows against a long KV cache, split each row's
// KV blocks over several work units so the whole GPU is busy, then merge the
// partial results (log-sum-exp) in combine units. GQA heads sharing a KV head
// are packed into one unit so K/V are read once per group.
#include <algorithm>

#include "models/kernels/i_kernel.h"

namespace attnsim {
namespace {

class SplitKvDecode final : public IKernel {
 public:
  explicit SplitKvDecode(KernelSpec spec) : spec_(std::move(spec)) {}
  const KernelSpec& spec() const override { return spec_; }

  BlockGeometry block_geometry(const AttentionShape& shape) const override {
    BlockGeometry g = IKernel::block_geometry(shape);
    g.q_block = std::max<int64_t>(shape.q_len, 1);  // all new tokens in one tile row
    return g;
  }

  Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                   const HwSpec& hw) const override {
    hw.matrix_path(spec_.mma_path);
    TraceTiling tiling;
    tiling.q_block = mask->geometry().q_block;
    tiling.kv_block = mask->geometry().kv_block;
    tiling.pack_gqa = spec_.pack_gqa && mask->mask_heads() == 1 && shape.group_size() > 1;
    // Enough splits to give every SM/core about two units, as flash-decoding's heuristic does.
    const int64_t rows = shape.batch * (tiling.pack_gqa ? shape.kv_heads : shape.q_heads) * mask->geometry().q_blocks();
    const int64_t want = (2 * static_cast<int64_t>(hw.units) + rows - 1) / std::max<int64_t>(rows, 1);
    tiling.kv_splits = std::clamp<int64_t>(want, 1, spec_.max_kv_splits);
    return Trace(shape, tiling, mask, make_units(shape, tiling, *mask), spec_.name);
  }

 private:
  KernelSpec spec_;
};

std::unique_ptr<IKernel> create(KernelSpec spec) { return std::make_unique<SplitKvDecode>(std::move(spec)); }

const Registrar<KernelEntry> kRegister("split_kv_decode",
                                       KernelEntry{"flash-decoding: split-KV decode with a combine pass", create});

}  // namespace
}  // namespace attnsim

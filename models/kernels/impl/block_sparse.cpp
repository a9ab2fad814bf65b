// Triton / FlexAttention-style block-sparse kernel: the grid covers every
// (batch, head, query block); each unit reads its row of the block index and
// visits only the listed KV blocks, applying the element mask on partial ones.
#include "models/kernels/i_kernel.h"

namespace attnsim {
namespace {

class BlockSparse final : public IKernel {
 public:
  explicit BlockSparse(KernelSpec spec) : spec_(std::move(spec)) {}
  const KernelSpec& spec() const override { return spec_; }

  Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                   const HwSpec& hw) const override {
    hw.matrix_path(spec_.mma_path);
    TraceTiling tiling;
    tiling.q_block = mask->geometry().q_block;
    tiling.kv_block = mask->geometry().kv_block;
    return Trace(shape, tiling, mask, make_units(shape, tiling, *mask), spec_.name);
  }

 private:
  KernelSpec spec_;
};

std::unique_ptr<IKernel> create(KernelSpec spec) { return std::make_unique<BlockSparse>(std::move(spec)); }

const Registrar<KernelEntry> kRegister("block_sparse",
                                       KernelEntry{"Triton/FlexAttention block-sparse kernel", create});

}  // namespace
}  // namespace attnsim

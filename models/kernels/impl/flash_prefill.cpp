// Tiled prefill kernel: one work unit per (batch, query head, query block),
// visiting that row's KV blocks in order. Block-sparse kernels (FlexAttention,
// skips_empty_blocks: true) read a block index and visit exactly the listed
// blocks; dense kernels (FA2, FA3: false) only bound their KV loop, so they visit
// every block from a row's first to its last (contiguous_cover). The same kernel
// serves one-token decode when a split-KV kernel dispatches to it.
#include "models/kernels/i_kernel.h"
#include "sim/core/error.h"

namespace attnsim {
namespace {

class FlashPrefill final : public IKernel {
 public:
  explicit FlashPrefill(KernelSpec spec) : spec_(std::move(spec)) {}
  const KernelSpec& spec() const override { return spec_; }

  // FA2's mha_fwd asks the split-KV heuristic too: when it splits (a small grid), the split kernel
  // runs; one split runs this kernel. A kernel that is not a split kernel never splits.
  std::string dispatch(const AttentionShape& shape, const HwSpec& hw) const override {
    if (spec_.split_kernel.empty()) return "";
    std::unique_ptr<IKernel> split;
    try {
      split = make_kernel(spec_.split_kernel);
    } catch (const Error& e) {
      throw Error((spec_.source_file.empty() ? "" : spec_.source_file + ": ") + "split_kernel: " + e.what());
    }
    return split->would_split(shape, hw) ? spec_.split_kernel : "";
  }

  Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                   const HwSpec& hw) const override {
    require_matrix_path(spec_, hw);  // fails early with the paths this hardware has
    TraceTiling tiling;
    tiling.q_block = mask->geometry().q_block;
    tiling.kv_block = mask->geometry().kv_block;
    tiling.kv_splits = 1;
    // FA2 folds a GQA group into query rows for one-token decode (seqlenq_ngroups_swapped).
    tiling.pack_gqa = spec_.pack_gqa && shape.q_len == 1 && shape.group_size() > 1 && mask->mask_heads() == 1;
    if (!spec_.skips_empty_blocks) mask = std::make_shared<const BlockMask>(contiguous_cover(*mask));
    return Trace(shape, tiling, mask, make_units(shape, tiling, *mask), spec_.name);
  }

 private:
  KernelSpec spec_;
};

std::unique_ptr<IKernel> create(KernelSpec spec) { return std::make_unique<FlashPrefill>(std::move(spec)); }

const Registrar<KernelEntry> kRegister("flash_prefill",
                                       KernelEntry{"tiled prefill: FlashAttention-2/3 (dense loop bounds) or block-sparse (Flex)", create});

}  // namespace
}  // namespace attnsim

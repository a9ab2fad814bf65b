// An attention kernel turns (shape, block mask) into a trace: it picks the tile
// sizes, the work-unit layout and split-KV policy of a real implementation.
//
// Contract: block_sizes() depends only on the shape and the kernel config, so a
// mask can be built before the trace; make_trace() must visit exactly the blocks
// of the mask it is given, each once per query head.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sim/core/registry.h"
#include "sim/hw/hw_spec.h"
#include "sim/trace/trace.h"

namespace attnsim {

struct TileChoice {
  int64_t max_head_dim = 0;
  int64_t q_block = 0;
  int64_t kv_block = 0;
  // This tile's kernel's occupancy and query rows per K/V tile reader; the loader fills in the
  // kernel-wide values where the tile sets none.
  int ctas_per_sm = 0;
  int64_t smem_reader_rows = 0;
  // A head dim below the built one (FA2's Is_even_K false) adds shared-memory stores to every K/V
  // tile, issued by the warps that run the MMAs: wavefronts per key row (measured per built kernel).
  double uneven_width_smem_wavefronts_per_key = 0;
  // The fp32 output accumulator lives in global memory (xformers' kernels above kMaxK 128): every
  // K/V block reads the previous partial output and writes the new one, through L2.
  bool global_output_accumulator = false;
};

// Base of the architecture-specific kernel parameters (a kernel YAML's `tpu:` section),
// parsed by the plug-in registered under the kernel's `arch:`.
struct KernelArchParams {
  virtual ~KernelArchParams() = default;
};

// Parsed from workloads/kernels/<name>.yaml; the timing model reads the
// timing-related fields, the trace generator the tiling ones.
struct KernelSpec {
  std::string name;
  std::string arch = "gpu";          // hardware family it runs on; GPU-only keys are refused elsewhere
  std::shared_ptr<const KernelArchParams> arch_params;  // the `<arch>:` section (none for gpu)
  std::string impl;
  std::string aligned_fallback;      // runs_on kernels: the host kernel launched instead when nothing needs gathering
  std::string runs_on;               // attached unit (hw config section, e.g. "sparsecore") whose timing model runs it; "" = the host's
  std::string description;
  std::string source_file;           // the YAML it was read from, for errors that surface later
  std::string mma_path;              // hardware matrix path, e.g. "wgmma", "mma_sync", "mxu"
  std::vector<TileChoice> tiles;     // by head dim, ascending
  std::vector<int64_t> head_dims;    // head dims the kernel is built for, ascending; empty = any runs as is
  double pipeline_stages = 1;        // K+V tile pairs in flight per CTA (0.5: K and V loaded one at a time)
  double softmax_overlap_fraction = 0;  // share of softmax hidden under MMA (0 = serial)
  bool skips_empty_blocks = true;    // block-sparse aware (false = dense kernel with causal only)
  int64_t max_kv_splits = 1;         // split-KV limit (decode)
  std::string split_kernel;          // a split-KV kernel the library runs instead when it would split (FA2's mha_fwd)
  bool splits_within_one_wave = false;  // without split_heuristic: the most splits that fit one wave (else the fewest that fill it)
  bool pack_gqa = false;
  std::vector<std::string> phases;   // "prefill", "decode"
  // Timing-model parameters (see docs/gpu-model.md):
  int ctas_per_sm = 1;                  // resident CTAs per SM (occupancy from smem/registers); default for the tiles
  int64_t mma_tile_m = 64;              // MMA row granularity: query rows are padded to it
  bool persistent = false;              // one CTA per slot loops over tiles, prefetching the next (FA3, cuDNN)
  bool kv_descending = false;           // visits a row's KV blocks last to first (FA2's n_block loop)
  bool exposed_load_latency = false;    // the tile loop waits for each K/V tile just before its MMA (FA2)
  bool computes_full_q_tile = false;    // every warp computes its rows of the q tile, queries or not (FA2)
  bool softmax_over_q_tile = false;     // the softmax too runs on every row of the padded q tile
  int64_t smem_reader_rows = 64;        // query rows per warp(group) that reads each K/V tile from SMEM; default for the tiles
  double softmax_vector_ops_per_element = 4;  // FP32 ops per score besides exp (scale, max, sub, sum)
  double mask_vector_ops_per_element = 2;     // extra ops per score on partial blocks
  double mma_efficiency = 1;            // share of the path's peak MMA rate this kernel's instruction mix reaches
  double lone_cta_throughput_fraction = 1;  // share of the SM's pipe throughput one resident CTA reaches alone
  double memory_efficiency = 1;         // share of the achievable DRAM bandwidth this kernel's access pattern sustains
  double tile_overhead_cycles = 0;      // per work unit, not hidden: prologue/epilogue outside the pipelined loop
  double uneven_width_cycles_per_wavefront = 0;  // serial cost of each of a tile's uneven-width store wavefronts
  double fixed_overhead_s = 0;          // auxiliary work per call (layout copies, extra kernels), added to the latency
  double combine_overhead_s = 0;        // split-KV combine kernel: its duration beyond the per-split merge chain
  bool combine_serial = false;          // the combine merges splits one L2 round trip after another (FA2)
  double spill_bytes_per_cta = 0;       // register spills (local memory) each CTA leaves dirty in L2
  double spill_area_bytes_per_cta = 0;  // local memory a resident CTA's spills occupy in L2 (its stack frames)
  double host_dispatch_s = 0;           // framework's host time per call: the floor of back-to-back calls
  // Split-KV policy of FlashAttention-2 (flash_api.cpp num_splits_heuristic); absent = two units per SM.
  struct SplitHeuristic {
    bool present = false;
    double slots_per_sm = 2;         // the heuristic counts this many CTAs per SM
    double one_pass_fill = 0.8;      // rows >= this share of the slots: no split
    double wave_efficiency = 0.85;   // smallest split count within this share of the best wave fill
    std::string one_pass_kernel;     // the kernel launched when no split is needed ("" = this one, unsplit)
  } split_heuristic;

  const TileChoice& tile_for(int64_t head_dim) const;
  // The built head dim a head dim runs as: the smallest listed one that holds it (its matrix work
  // and shared-memory tiles are that wide; K/V still move at the real width). Beyond the list, or
  // with none, the head dim itself.
  int64_t padded_head_dim(int64_t head_dim) const;

  template <class P>
  const P& params() const {
    auto p = std::dynamic_pointer_cast<const P>(arch_params);
    if (!p) throw Error("kernel '" + name + "' (arch '" + arch + "') has no such parameter section");
    return *p;
  }
};

// Parses the `<arch>:` section of a kernel config; `common` holds the keys read so far.
struct KernelArchEntry {
  std::string description;
  std::shared_ptr<const KernelArchParams> (*parse)(MapReader& section, const KernelSpec& common) = nullptr;
};
using KernelArchRegistry = Registry<KernelArchEntry>;

class IKernel {
 public:
  virtual ~IKernel() = default;
  virtual const KernelSpec& spec() const = 0;
  virtual BlockGeometry block_geometry(const AttentionShape& shape) const;
  virtual Trace make_trace(const AttentionShape& shape, std::shared_ptr<const BlockMask> mask,
                           const HwSpec& hw) const = 0;
  // The kernel a library would really launch for this shape, when it is another one
  // (flash-decoding runs FA2's ordinary forward kernel when the batch fills the GPU); "" = this.
  virtual std::string dispatch(const AttentionShape& shape, const HwSpec& hw) const;
  // A split-KV kernel: whether it would run this shape itself with more than one split.
  virtual bool would_split(const AttentionShape&, const HwSpec&) const { return false; }
};

struct KernelEntry {
  std::string description;
  std::unique_ptr<IKernel> (*create)(KernelSpec spec) = nullptr;
};
using KernelRegistry = Registry<KernelEntry>;

KernelSpec load_kernel_spec(const std::string& path);
// Refuses a kernel whose mma_path this hardware lacks, naming the kernel's file.
void require_matrix_path(const KernelSpec& spec, const HwSpec& hw);
// Name ("fa3") or path to a kernel YAML; names resolve in workloads/kernels/.
std::unique_ptr<IKernel> make_kernel(const std::string& name_or_path);
std::vector<std::string> list_kernel_configs();
// The default kernel for an architecture and phase (e.g. gpu + decode -> flash_decoding).
std::string default_kernel(const HwSpec& hw, Phase phase);
// The block-sparse kernel that replaces a dense default when the mask skips blocks
// inside a row (gpu: flex where the hardware has wgmma, tpu: tpu_splash); "" = none.
std::string block_sparse_kernel(const HwSpec& hw);

}  // namespace attnsim

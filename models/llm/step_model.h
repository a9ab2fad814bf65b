// One forward step of a whole model on a group of chips, operator by operator
// (docs/capacity-planning.md): per layer RMSNorm, QKV projection, RoPE, attention,
// O projection, residual, RMSNorm, gate/up projection, SiLU x up, down projection,
// residual, with a tensor-parallel all-reduce after O and after down; then the final
// norm and the LM head. GEMMs come from the architecture's GEMM model, attention from
// the timing model of `attnsim run` (simulated once per distinct shape and cached),
// norms and elementwise ops stream through HBM at the configured efficiency (`ops: fused`)
// or as the separate kernels eager PyTorch launches (`ops: eager`).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "models/llm/model_spec.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

// How the model is spread over chips. Tensor parallelism splits heads and the FFN over
// `tp` chips; context parallelism splits a prompt's tokens over `cp` groups (ring
// attention, prefill only; decode runs on one group).
struct Deployment {
  int tp = 1;
  int cp = 1;
  std::string attention_kernel;           // "" = the architecture's default per phase
  double memory_utilization = 0.9;        // share of HBM for weights + KV cache (rest: activations, runtime)
  // Kernel decomposition: "fused" (one kernel per norm/RoPE/activation, fused QKV and gate/up
  // GEMMs, as serving engines run it) or "eager" (the kernels plain PyTorch launches:
  // models/llm/eager_kernels.h, separate q/k/v and gate/up GEMMs, the KV-cache write).
  std::string ops = "fused";
  int chips() const { return tp * cp; }
};

struct OpCost {
  std::string name;      // e.g. "qkv_proj"
  std::string category;  // gemm | attention | norm | elementwise | collective
  double time_s = 0;     // all layers together
  double flops = 0;
  double hbm_bytes = 0;
  int64_t kernels = 0;   // kernel launches, all layers (each op's time includes one launch per kernel)
};

struct StepCost {
  std::string phase;     // prefill | decode
  int64_t batch = 0;
  int64_t tokens = 0;    // prefill: prompt length; decode: context length (keys incl. the new token)
  double time_s = 0;
  std::vector<OpCost> ops;
  double category_s(const std::string& category) const;
};

// The part of a step that is not attention, for steps that mix sequences (serving:
// several prompts, prefill chunks beside decode tokens). Per chip of one group.
struct DenseWork {
  int64_t rows = 0;         // tokens through the GEMMs and elementwise ops
  int64_t sampled = 0;      // sequences whose last position goes through the final norm and LM head (may be 0)
  int64_t positions = 0;    // query positions of the longest sequence (eager RoPE tables)
  int64_t decode_rows = 0;  // rows that are decode tokens (eager: their K/V copied into the cache)
};

// Memory per chip of one tensor-parallel group, and the KV cache it leaves.
struct MemoryPlan {
  double weight_bytes_per_chip = 0;
  double kv_bytes_per_token_per_chip = 0;  // all layers, this chip's KV heads
  double usable_bytes_per_chip = 0;
  int64_t kv_capacity_tokens = 0;          // tokens the whole deployment can hold in KV cache (0: weights don't fit)
};

class StepModel {
 public:
  // Throws attnsim::Error when the deployment cannot split the model (tp must divide the
  // query heads and divide or be a multiple of the KV heads) or exceeds the interconnect.
  StepModel(HwSpec hw, ModelSpec model, Deployment d);

  StepCost prefill(int64_t batch, int64_t prompt_tokens);
  StepCost decode(int64_t batch, int64_t context_tokens);
  // The step above without its attention operators: prefill(b, s) is
  // without_attention({b s / cp, b, s / cp, 0}) plus attention_s(false, b, s, s), decode(b, c)
  // is without_attention({b, b, 1, b}) plus attention_s(true, b, 1, c), up to rounding.
  StepCost without_attention(const DenseWork& w) const;
  // Attention of all layers for `batch` sequences of q_len queries over kv_len keys each,
  // queries at the end of the keys (q_len < kv_len: a prefill chunk; needs cp == 1).
  double attention_s(bool decode, int64_t batch, int64_t q_len, int64_t kv_len);
  MemoryPlan memory() const;

  const HwSpec& hw() const { return hw_; }
  const ModelSpec& model() const { return model_; }
  const Deployment& deployment() const { return d_; }
  size_t attention_simulations() const { return attention_cache_.size(); }

 private:
  StepCost step(bool decode, int64_t batch, int64_t tokens);
  // The operators of a step; `attention` appends the attention operators between RoPE and o_proj.
  StepCost build(const DenseWork& w, const std::function<void(StepCost&)>& attention) const;
  // Per attention kind: its operator (all its layers), with context parallelism.
  std::vector<OpCost> attention_ops(bool decode, int64_t batch, int64_t q_len, int64_t kv_len);
  double kernel_s(const AttentionKind& kind, bool decode, int64_t batch, int64_t q_len, int64_t kv_len);
  double gemm_s(int64_t m, int64_t n, int64_t k, double* flops, double* bytes) const;
  double stream_s(double bytes) const;  // a memory-bound elementwise kernel
  bool eager() const { return d_.ops == "eager"; }

  HwSpec hw_;
  ModelSpec model_;
  Deployment d_;
  int64_t q_heads_chip_ = 0, kv_heads_chip_ = 0;
  std::map<std::tuple<size_t, bool, int64_t, int64_t, int64_t>, double> attention_cache_;
};

}  // namespace attnsim

// A whole transformer (decoder-only, pre-norm, gated MLP) described as data:
// workloads/models/*.yaml, parsed once and validated (docs/capacity-planning.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/dtype.h"

namespace attnsim {

// The layers that share one attention pattern (not necessarily consecutive): a step
// simulates each distinct pattern once and multiplies by its layer count.
struct AttentionKind {
  YAML::Node pattern;  // {name: ..., params}; parsed by the pattern registry
  int64_t layer_count = 0;
};

struct ModelSpec {
  std::string name;
  std::string source_path;
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t q_heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t ffn = 0;        // intermediate size of the gated MLP (gate, up: hidden x ffn; down: ffn x hidden)
  int64_t vocab = 0;
  int64_t max_context_tokens = 0;
  Dtype dtype = Dtype::bf16;  // weights, activations and KV cache
  std::vector<AttentionKind> attention;  // layer counts sum to `layers`; first appearance first

  double parameter_count() const;        // weights incl. embedding and LM head (untied)
  double weight_bytes() const { return parameter_count() * dtype_bytes(dtype); }
  double kv_bytes_per_token() const;     // K and V over all layers
};

ModelSpec load_model_spec(const std::string& path);
ModelSpec parse_model_spec(const YAML::Node& root, const std::string& source_name);
// Resolves "llama3-8b" or a path to workloads/models/<name>.yaml.
std::string resolve_model_path(const std::string& name_or_path);
// The same model with every layer's attention replaced by `pattern` (a what-if).
ModelSpec with_pattern(const ModelSpec& m, const YAML::Node& pattern);

}  // namespace attnsim

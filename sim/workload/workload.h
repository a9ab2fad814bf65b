// One attention layer to simulate: its shape, dtype, phase and sparsity pattern.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "sim/core/dtype.h"

namespace attnsim {

enum class Phase { prefill, decode };

struct AttentionShape {
  int64_t batch = 1;
  int64_t q_heads = 1;
  int64_t kv_heads = 1;  // divides q_heads; < q_heads is GQA, 1 is MQA
  int64_t head_dim = 64;
  int64_t q_len = 1;
  int64_t kv_len = 1;
  Dtype dtype = Dtype::bf16;
  Phase phase = Phase::prefill;

  int64_t group_size() const { return q_heads / kv_heads; }
  // Queries are aligned to the end of the keys (decode and chunked prefill):
  // query row i sits at absolute position q_offset() + i.
  int64_t q_offset() const { return kv_len - q_len; }
  double q_bytes() const;    // Q tensor
  double kv_bytes() const;   // K and V tensors together
  double out_bytes() const;  // O tensor
};

struct Workload {
  std::string name;
  std::string source_path;
  AttentionShape shape;
  YAML::Node pattern;      // {name: ..., params...}; parsed by the pattern registry
  std::string kernel;      // optional kernel name; "" = the architecture's default
  uint64_t seed = 1;
};

Workload load_workload(const std::string& path);
Workload parse_workload(const YAML::Node& root, const std::string& source_name);
void validate_shape(const AttentionShape& s, const std::string& where);

}  // namespace attnsim

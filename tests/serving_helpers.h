// Shared set-up of the serving tests: a tiny causal model that simulates in
// milliseconds, and the H100 config.
#pragma once

#include "models/llm/model_spec.h"
#include "models/serving/arrivals.h"
#include "sim/config/map_reader.h"
#include "sim/hw/hw_spec.h"

namespace attnsim_test {

inline attnsim::ModelSpec tiny_model() {
  return attnsim::parse_model_spec(
      attnsim::load_yaml_string("name: tiny\nlayers: 2\nhidden: 256\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\n"
                                "ffn: 512\nvocab: 1000\nmax_context: 4096\nattention: {pattern: {name: causal}}\n",
                                "tiny.yaml"),
      "tiny.yaml");
}

// Poisson arrivals, prompts of 64 to 1024 tokens and outputs of 1 to max_output (uniform).
inline std::vector<attnsim::Request> uniform_requests(double rate, double duration_s, int64_t max_output, uint64_t seed) {
  const attnsim::LengthDistribution prompt{"uniform", 64, 1024, 4000}, output{"uniform", 1, static_cast<double>(max_output), 4000};
  return attnsim::poisson_requests(rate, duration_s, prompt, output, seed);
}

inline attnsim::HwSpec h100() { return attnsim::load_hw_spec(attnsim::resolve_hw_path("h100-sxm")); }

}  // namespace attnsim_test

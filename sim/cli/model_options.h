// Options shared by `attnsim model`, `serve` and `plan`: model, deployment, pattern what-if.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "models/llm/model_spec.h"
#include "models/llm/step_model.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

struct ModelOptions {
  std::string model;       // name (workloads/models/) or path
  std::string pattern;     // "" = the model's own; else a YAML pattern mapping for every layer
  std::string kernel;      // attention kernel override
  std::string ops = "fused";  // kernel decomposition: fused | eager (Deployment::ops)
  int tp = 1, cp = 1;
  double memory_utilization = 0.9;
  bool json = false, quiet = false;
  std::string output = "-";
};

inline void add_model_options(CLI::App* cmd, ModelOptions& o, bool deployment = true) {
  cmd->add_option("--model,-w", o.model, "model name (workloads/models/) or YAML path")->required();
  cmd->add_option("--pattern", o.pattern, "attention pattern for every layer, e.g. '{name: sliding_window, window_tokens: 4096}'");
  cmd->add_option("--kernel", o.kernel, "attention kernel (default: the architecture's per phase)");
  if (deployment) {
    cmd->add_option("--tp", o.tp, "tensor-parallel chips")->check(CLI::Range(1, 1 << 16));
    cmd->add_option("--cp", o.cp, "context-parallel groups (prefill ring attention)")->check(CLI::Range(1, 1 << 16));
  }
  cmd->add_option("--ops", o.ops, "kernel decomposition: fused (serving engines) or eager (plain PyTorch kernels)")
      ->check(CLI::IsMember({"fused", "eager"}))
      ->capture_default_str();
  cmd->add_option("--memory-utilization", o.memory_utilization, "share of HBM for weights + KV cache")->check(CLI::Range(0.01, 1.0));
  cmd->add_flag("--json", o.json, "write JSON instead of text");
  cmd->add_option("--output,-o", o.output, "write the result to this file instead of stdout");
  cmd->add_flag("--quiet,-q", o.quiet, "no progress messages");
}

inline ModelSpec load_model_option(const ModelOptions& o) {
  ModelSpec m = load_model_spec(resolve_model_path(o.model));
  if (!o.pattern.empty()) {
    const YAML::Node p = load_yaml_string(o.pattern, "--pattern");
    if (!p.IsMap() || !p["name"]) throw Error("--pattern '" + o.pattern + "': expected a mapping like '{name: causal}'");
    m = with_pattern(m, p);
  }
  return m;
}

inline Deployment deployment_option(const ModelOptions& o) {
  Deployment d;
  d.tp = o.tp;
  d.cp = o.cp;
  d.attention_kernel = o.kernel;
  d.ops = o.ops;
  d.memory_utilization = o.memory_utilization;
  return d;
}

}  // namespace attnsim

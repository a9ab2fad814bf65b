// Options shared by the commands that load a workload onto hardware.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "sim/session/session.h"

namespace attnsim {

struct CommonOptions {
  SessionOptions session;
  uint64_t seed = 0;
  bool json = false;
  bool quiet = false;
  std::string output = "-";
};

inline void add_session_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--hw", o.session.hw, "hardware config name (attnsim hw) or YAML path")->required();
  cmd->add_option("--workload,-w", o.session.workload, "workload YAML")->required();
  cmd->add_option("--kernel", o.session.kernel, "kernel name (workloads/kernels/) or YAML path; default by hardware");
  cmd->add_option("--seed", o.seed, "override the workload's seed");
  cmd->add_flag("--json", o.json, "write JSON instead of a table");
  cmd->add_option("--output,-o", o.output, "write the result to this file instead of stdout");
  cmd->add_flag("--quiet,-q", o.quiet, "no progress messages on stderr");
}

inline SessionOptions resolved(const CommonOptions& o, const CLI::App* cmd) {
  SessionOptions s = o.session;
  if (cmd->count("--seed")) s.seed = o.seed;
  s.progress = !o.quiet;
  return s;
}

}  // namespace attnsim

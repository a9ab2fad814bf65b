// Options shared by the commands that load a workload onto hardware.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "sim/core/units.h"
#include "sim/functional/check.h"
#include "sim/session/session.h"

namespace attnsim {

struct CommonOptions {
  SessionOptions session;
  uint64_t seed = 0;
  bool json = false;
  bool quiet = false;
  std::string output = "-";
  std::string max_memory, max_time;  // budget overrides, with units ("32GiB", "3600s")
};

// Everything but --hw, --workload and --kernel (which `compare` takes in its own form).
inline void add_output_and_budget_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--seed", o.seed, "override the workload's seed");
  cmd->add_flag("--json", o.json, "write JSON instead of a table");
  cmd->add_option("--output,-o", o.output, "write the result to this file instead of stdout");
  cmd->add_flag("--quiet,-q", o.quiet, "no progress messages on stderr");
  cmd->add_option("--threads", o.session.threads, "worker threads (results do not depend on it; 0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-memory", o.max_memory,
                  "host memory budget, e.g. 32GiB (default: 16 GiB or 3/4 of RAM); bigger runs are refused up front");
  cmd->add_option("--max-time", o.max_time, "time budget, e.g. 3600s (default 600s); longer runs are refused up front");
}

inline void add_session_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--hw", o.session.hw, "hardware config name (attnsim hw) or YAML path")->required();
  cmd->add_option("--workload,-w", o.session.workload, "workload YAML")->required();
  cmd->add_option("--kernel", o.session.kernel, "kernel name (workloads/kernels/) or YAML path; default by hardware");
  add_output_and_budget_options(cmd, o);
}

inline SessionOptions resolved(const CommonOptions& o, const CLI::App* cmd) {
  SessionOptions s = o.session;
  if (cmd->count("--seed")) s.seed = o.seed;
  s.progress = !o.quiet;
  auto quantity = [](const std::string& flag, const std::string& text, UnitKind kind) {
    try {
      const double v = parse_quantity(text, kind);
      if (!(v > 0)) throw Error("must be positive, got '" + text + "'");
      return v;
    } catch (const Error& e) {
      throw Error(flag + ": " + e.what());
    }
  };
  if (!o.max_memory.empty()) s.budget.memory_bytes = quantity("--max-memory", o.max_memory, UnitKind::bytes);
  if (!o.max_time.empty()) s.budget.time_s = quantity("--max-time", o.max_time, UnitKind::time);
  return s;
}

// Functional-check options under the session's thread count and budget.
inline CheckOptions budgeted_check_options(const SessionOptions& s) {
  CheckOptions co;
  co.threads = s.threads;
  co.max_memory_bytes = s.budget.memory_limit_bytes();
  co.max_seconds = s.budget.time_s;
  return co;
}

}  // namespace attnsim

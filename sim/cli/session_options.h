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

inline void add_budget_options(CLI::App* cmd, std::string& max_memory, std::string& max_time) {
  cmd->add_option("--max-memory", max_memory,
                  "host memory budget, e.g. 32GiB (default: 16 GiB or 3/4 of RAM); bigger runs are refused up front");
  cmd->add_option("--max-time", max_time, "time budget, e.g. 3600s (default 600s); longer runs are refused up front");
}

// Everything but --hw, --workload and --kernel (which `compare` takes in its own form).
inline void add_output_and_budget_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--seed", o.seed, "override the workload's seed");
  cmd->add_flag("--json", o.json, "write JSON instead of a table");
  cmd->add_option("--output,-o", o.output, "write the result to this file instead of stdout");
  cmd->add_flag("--quiet,-q", o.quiet, "no progress messages on stderr");
  cmd->add_option("--threads", o.session.threads, "worker threads (results do not depend on it; 0 = all cores)")
      ->check(CLI::Range(0, 1024));
  add_budget_options(cmd, o.max_memory, o.max_time);
}

inline void add_session_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--hw", o.session.hw, "hardware config name (attnsim hw) or YAML path")->required();
  cmd->add_option("--workload,-w", o.session.workload, "workload YAML")->required();
  cmd->add_option("--kernel", o.session.kernel, "kernel name (workloads/kernels/) or YAML path; default by hardware");
  add_output_and_budget_options(cmd, o);
}

// --max-memory and --max-time (empty = the default) into `budget`; a bad value names its flag.
inline void apply_budget_options(const std::string& max_memory, const std::string& max_time, ResourceBudget& budget) {
  auto quantity = [](const std::string& flag, const std::string& text, UnitKind kind) {
    try {
      const double v = parse_quantity(text, kind);
      if (!(v > 0)) throw Error("must be positive, got '" + text + "'");
      return v;
    } catch (const Error& e) {
      throw Error(flag + ": " + e.what());
    }
  };
  if (!max_memory.empty()) budget.memory_bytes = quantity("--max-memory", max_memory, UnitKind::bytes);
  if (!max_time.empty()) budget.time_s = quantity("--max-time", max_time, UnitKind::time);
}

inline SessionOptions resolved(const CommonOptions& o, const CLI::App* cmd) {
  SessionOptions s = o.session;
  if (cmd->count("--seed")) s.seed = o.seed;
  s.progress = !o.quiet;
  apply_budget_options(o.max_memory, o.max_time, s.budget);
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

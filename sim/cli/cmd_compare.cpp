// `attnsim compare`: one workload on two or more hardware configs, each with its own
// default kernel (or the one given), reported side by side (sim/report/comparison.h).
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "sim/cli/command.h"
#include "sim/cli/session_options.h"
#include "sim/cli/simulate.h"
#include "sim/core/error.h"
#include "sim/report/comparison.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace cmd_compare {

struct CompareOptions {
  CommonOptions common;  // common.session.hw and .kernel stay empty: see hws and kernels
  std::vector<std::string> hws;
  std::vector<std::string> kernels;  // "NAME" for every config, "HW=NAME" for the config given as --hw HW
  bool check = false;
  int64_t sample_rows = 64;
};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The kernel for each --hw argument ("" = the hardware's default), from the --kernel values.
std::map<std::string, std::string> kernels_per_hw(const CompareOptions& o) {
  std::map<std::string, std::string> per_hw;
  std::string common;
  for (const std::string& k : o.kernels) {
    const size_t eq = k.find('=');
    if (eq == std::string::npos) {
      if (!common.empty()) {
        throw Error("--kernel given twice for every hardware ('" + common + "' and '" + k +
                    "'); use --kernel HW=NAME for one hardware config");
      }
      common = k;
      continue;
    }
    const std::string hw = k.substr(0, eq), name = k.substr(eq + 1);
    if (std::find(o.hws.begin(), o.hws.end(), hw) == o.hws.end()) {
      throw Error("--kernel " + k + ": '" + hw + "' is not one of the --hw configs (" + join(o.hws) + ")");
    }
    if (name.empty()) throw Error("--kernel " + k + ": no kernel name after '='");
    if (!per_hw.emplace(hw, name).second) throw Error("--kernel given twice for '" + hw + "'");
  }
  for (const std::string& hw : o.hws) per_hw.emplace(hw, common);
  return per_hw;
}

// Refuses, before any simulation, what would fail later: fewer than two configs, a config
// given twice, and hardware that does not load or has no timing model.
void require_comparable(const CompareOptions& o) {
  if (o.hws.size() < 2) {
    throw Error("compare needs two or more hardware configs (--hw A --hw B), got " + std::to_string(o.hws.size()) +
                "; use 'attnsim run' for one");
  }
  std::set<std::string> seen;
  for (const std::string& hw : o.hws) {
    if (!seen.insert(hw).second) throw Error("--hw " + hw + " given twice");
    const HwSpec spec = load_hw_spec(resolve_hw_path(hw));
    if (!find_timing_model(spec.arch)) {
      throw Error(hw + ": no timing model registered for arch '" + spec.arch + "' (timing models: " +
                  join(TimingRegistry::instance().names()) + "); compare needs one for every hardware config");
    }
  }
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("compare", "simulate one attention layer on several hardware configs, side by side");
  auto o = std::make_shared<CompareOptions>();
  cmd->add_option("--hw", o->hws, "hardware config name (attnsim hw) or YAML path; give two or more")->required();
  cmd->add_option("--workload,-w", o->common.session.workload, "workload YAML")->required();
  cmd->add_option("--kernel", o->kernels,
                  "kernel for every config, or HW=NAME for the config given as --hw HW; default by hardware");
  add_output_and_budget_options(cmd, o->common);
  cmd->add_flag("--check", o->check, "run the sampled functional check once, with the first config's kernel");
  cmd->add_option("--sample-rows", o->sample_rows, "rows in the sampled functional check")
      ->check(CLI::Range(1, 1 << 20));
  cmd->callback([o, cmd] {
    const std::map<std::string, std::string> kernel = kernels_per_hw(*o);
    require_comparable(*o);
    require_writable_output(o->common.output);
    std::vector<ComparedRun> runs;
    for (size_t i = 0; i < o->hws.size(); ++i) {
      SessionOptions so = resolved(o->common, cmd);
      so.hw = o->hws[i];
      so.kernel = kernel.at(o->hws[i]);
      Session ses = prepare_session(so);  // one at a time: each holds its own mask and trace
      const bool check = o->check && i == 0;
      const CheckOptions co = session_check_options(so, ses, o->sample_rows);
      if (check) require_check_fits(*ses.trace, co);
      ComparedRun run{ses.hw.name, ses.hw.memory, simulate_session(ses, !o->common.quiet)};
      if (check) add_check(ses, co, !o->common.quiet, run.result);
      runs.push_back(std::move(run));
    }
    write_output(o->common.output, o->common.json ? comparison_json(runs).dump(2) + "\n" : render_comparison(runs));
  });
}

const Registrar<CommandEntry> kRegister("compare", CommandEntry{setup});

}  // namespace cmd_compare
}  // namespace attnsim

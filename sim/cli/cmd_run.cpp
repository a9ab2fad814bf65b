// `attnsim run`: hardware + workload -> mask statistics, work, functional check
// and, where the architecture has a timing model, latency and traffic.
#include <memory>

#include <cstdio>

#include "sim/cli/command.h"
#include "sim/cli/session_options.h"
#include "sim/cli/simulate.h"
#include "sim/report/report.h"
#include "sim/report/trace_events.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace cmd_run {

struct RunOptions {
  CommonOptions common;
  int64_t sample_rows = 64;
  bool full_check = false;
  bool no_check = false;
  bool detail = false;
  std::string trace_out;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "simulate one attention layer on one hardware config");
  auto o = std::make_shared<RunOptions>();
  add_session_options(cmd, o->common);
  cmd->add_option("--sample-rows", o->sample_rows, "rows in the sampled functional check")->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--full-check", o->full_check, "check every output row (refused when too costly)");
  cmd->add_flag("--no-check", o->no_check, "skip the functional check");
  cmd->add_flag("--detail", o->detail,
                "add the per-SM/core timeline and the mask grid to the result (what attnsim plot and the GUI draw)");
  cmd->add_option("--trace", o->trace_out, "also write a Chrome/Perfetto trace (Trace Event Format JSON) to this file");
  cmd->callback([o, cmd] {
    const SessionOptions so = resolved(o->common, cmd);
    require_writable_output(o->common.output);
    const bool tracing = !o->trace_out.empty();
    if (tracing) {
      require_writable_output(o->trace_out);
      if (o->trace_out == o->common.output) throw Error("--trace: '" + o->trace_out + "' is also the -o result file");
    }
    Session ses = prepare_session(so);
    if (tracing && !find_timing_model(ses.hw.arch)) {
      throw Error("--trace: " + ses.hw.name + " (arch '" + ses.hw.arch + "') has no timing model to trace");
    }
    ses.record_detail = o->detail || tracing;
    const CheckOptions co = session_check_options(so, ses, o->full_check ? 0 : o->sample_rows);
    if (!o->no_check) require_check_fits(*ses.trace, co);  // refuse before the timing simulation, not after
    nlohmann::ordered_json result = simulate_session(ses, !o->common.quiet);
    if (!o->no_check) add_check(ses, co, !o->common.quiet, result);
    if (tracing) {
      write_output(o->trace_out, trace_event_json(result));
      const auto tl = result.value("timeline", nlohmann::ordered_json::object());
      if (!o->common.quiet && tl.value("units_per_record", int64_t{1}) > 1) {
        std::fprintf(stderr, "attnsim: trace %s\n", tl.value("note", "").c_str());
      }
    }
    if (!o->detail) {  // --trace alone leaves the result as it was
      result.erase("timeline");
      result.erase("mask_grid");
    }
    write_output(o->common.output, o->common.json ? result.dump(2) + "\n" : render_text(result));
  });
}

const Registrar<CommandEntry> kRegister("run", CommandEntry{setup});

}  // namespace cmd_run
}  // namespace attnsim

// `attnsim check`: functional check only - the tiled kernel against the float64
// reference, optionally on external Q/K/V and an external output (.npy).
#include <memory>

#include "sim/cli/command.h"
#include "sim/cli/session_options.h"
#include "sim/core/progress.h"
#include "sim/functional/inputs.h"
#include "sim/report/report.h"

namespace attnsim {
namespace cmd_check {

struct CheckCliOptions {
  CommonOptions common;
  std::string precision = "both";
  int64_t sample_rows = 0;
  std::string expected;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "functional check: tiled kernel vs float64 reference");
  auto o = std::make_shared<CheckCliOptions>();
  add_session_options(cmd, o->common);
  cmd->add_option("--precision", o->precision, "fp32, bf16 or both")
      ->check(CLI::IsMember({"fp32", "bf16", "both"}));
  cmd->add_option("--sample-rows", o->sample_rows, "check this many random rows instead of all (0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 24));
  cmd->add_option("--q", o->common.session.q_npy, "queries .npy [B, Hq, q_len, d]");
  cmd->add_option("--k", o->common.session.k_npy, "keys .npy [B, Hkv, kv_len, d]");
  cmd->add_option("--v", o->common.session.v_npy, "values .npy [B, Hkv, kv_len, d]");
  cmd->add_option("--expected", o->expected, "an external implementation's output .npy [B, Hq, q_len, d]");
  cmd->callback([o, cmd] {
    const SessionOptions so = resolved(o->common, cmd);
    require_writable_output(o->common.output);
    Session ses = prepare_session(so);
    const AttentionShape& s = ses.workload.shape;
    std::vector<float> expected;
    if (!o->expected.empty()) expected = load_bhsd(o->expected, s.batch, s.q_heads, s.q_len, s.head_dim, "expected output");
    CheckOptions co = budgeted_check_options(so);
    co.sample_rows = o->sample_rows;
    co.seed = ses.workload.seed;
    co.expected = expected.empty() ? nullptr : &expected;
    require_check_fits(*ses.trace, co);
    nlohmann::ordered_json result;
    result["workload"] = workload_json(ses);
    result["mask"] = mask_json(compute_stats(*ses.mask));
    bool pass = true;
    for (Precision p : {Precision::fp32, Precision::bf16}) {
      const std::string name = p == Precision::fp32 ? "fp32" : "bf16";
      if (o->precision != "both" && o->precision != name) continue;
      co.precision = p;
      Progress prog("functional check (" + name + ")", !o->common.quiet);
      const CheckResult r = run_check(*ses.trace, *ses.pattern, *ses.inputs, co);
      result["check_" + name] = check_json(r);
      pass = pass && r.pass;
    }
    write_output(o->common.output, o->common.json ? result.dump(2) + "\n" : render_text(result));
    if (!pass) throw Error("functional check failed: error above tolerance (see the table)");
  });
}

const Registrar<CommandEntry> kRegister("check", CommandEntry{setup});

}  // namespace cmd_check
}  // namespace attnsim

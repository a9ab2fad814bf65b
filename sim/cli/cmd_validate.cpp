// `attnsim validate [FILE|DIR ...]`: re-simulate measured kernels and report error.
#include <memory>

#include "sim/cli/command.h"
#include "sim/cli/measurement_inputs.h"
#include "sim/core/forked_map.h"
#include "sim/core/sanitizer.h"
#include "sim/validate/validate.h"

namespace attnsim {
namespace cmd_validate {

struct ValidateCli {
  std::vector<std::string> inputs;
  std::string hw, csv, markdown, json;
  bool measured_clock = false, no_gate = false, quiet = false;
  int64_t max_kv_len = 0;
  int jobs = 0;
  std::string set, family;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate", "compare attnsim with measured kernel times (docs/measurement-format.md)");
  auto o = std::make_shared<ValidateCli>();
  cmd->add_option("inputs", o->inputs, "measurement .jsonl files or folders (default: validation/h100/data)");
  cmd->add_option("--hw", o->hw, "use this hardware config for every case instead of matching by name");
  cmd->add_flag("--measured-clock", o->measured_clock,
                "simulate each case at the SM clock sampled with it (default: the config clock)");
  cmd->add_option("--max-kv-len", o->max_kv_len, "skip cases with longer KV (quick runs)");
  cmd->add_option("--set", o->set, "simulate only the calibration or the validation set")
      ->check(CLI::IsMember({"calibration", "validation"}));
  cmd->add_option("--family", o->family, "simulate only one kernel family, e.g. prefill/fa3");
  cmd->add_option("--csv", o->csv, "write per-case results as CSV");
  cmd->add_option("--markdown", o->markdown, "write the summary tables as Markdown");
  cmd->add_flag("--no-gate", o->no_gate, "exit 0 even when targets are missed");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress on stderr");
  cmd->add_option("--jobs,-j", o->jobs,
                  "worker processes (default: all cores, as many as free memory holds at 0.5 GB each); "
                  "results do not depend on it")
      ->check(CLI::Range(1, 1024));
  cmd->callback([o] {
    ValidateOptions vo;
    const std::vector<std::string> files = measurement_files(o->inputs, "validation/h100/data");
    vo.files.insert(vo.files.end(), files.begin(), files.end());
    vo.hw = o->hw;
    vo.measured_clock = o->measured_clock;
    vo.max_kv_len = o->max_kv_len;
    vo.only_set = o->set;
    vo.only_family = o->family;
    vo.progress = !o->quiet;
    vo.jobs = o->jobs > 0 ? o->jobs : default_workers(kBytesPerSimulationWorker);
    if (!o->csv.empty()) require_writable_output(o->csv);
    if (!o->markdown.empty()) require_writable_output(o->markdown);
    const ValidationReport rep = run_validation(vo);
    resync_sanitizer_stack();  // SystemC switched stacks (see sim/core/sanitizer.h)
    write_output("-", render_validation_text(rep));
    if (!o->csv.empty()) write_output(o->csv, render_validation_csv(rep));
    if (!o->markdown.empty()) write_output(o->markdown, render_validation_markdown(rep));
    if (!rep.pass && !o->no_gate) throw Error("validation targets missed (see FAIL above)");
  });
}

const Registrar<CommandEntry> kRegister("validate", CommandEntry{setup});

}  // namespace cmd_validate
}  // namespace attnsim

// `attnsim model`: one forward step of a whole model (prefill or decode) on a group of
// chips, per operator, with its memory plan and, given a cost config, its token cost.
#include <memory>

#include "models/llm/step_report.h"
#include "sim/cli/command.h"
#include "sim/cli/model_options.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace cmd_model {

struct Options {
  ModelOptions m;
  std::string hw, phase = "prefill", cost;
  int64_t batch = 1, tokens = 0;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("model", "one forward step of a whole model: per-operator time, memory, $/1M tokens");
  auto o = std::make_shared<Options>();
  cmd->add_option("--hw", o->hw, "hardware config name or YAML path")->required();
  add_model_options(cmd, o->m);
  cmd->add_option("--phase", o->phase, "prefill | decode")->check(CLI::IsMember({"prefill", "decode"}))->capture_default_str();
  cmd->add_option("--batch", o->batch, "sequences in the step")->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  cmd->add_option("--tokens", o->tokens, "prompt length (prefill) or context length (decode); default 8192")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--cost", o->cost, "cost config name (configs/costs/) or YAML path");
  cmd->callback([o] {
    require_writable_output(o->m.output);
    const HwSpec hw = load_hw_spec(resolve_hw_path(o->hw));
    const ModelSpec model = load_model_option(o->m);
    const CostConfig cost = o->cost.empty() ? CostConfig{} : load_cost_config(resolve_cost_path(o->cost));
    StepModel sm(hw, model, deployment_option(o->m));
    const MemoryPlan mem = sm.memory();
    const int64_t tokens = o->tokens ? o->tokens : std::min<int64_t>(8192, model.max_context_tokens);
    const double needed = static_cast<double>(o->batch * tokens);
    if (mem.kv_capacity_tokens < needed) {
      throw Error(model.name + " on " + std::to_string(sm.deployment().chips()) + " x " + hw.name + ": batch " +
                  std::to_string(o->batch) + " x " + std::to_string(tokens) + " tokens of KV cache need room for " +
                  std::to_string(static_cast<int64_t>(needed)) + " tokens, the memory holds " +
                  std::to_string(mem.kv_capacity_tokens) + " (weights " + format_bytes(mem.weight_bytes_per_chip) +
                  " per chip); use more chips (--tp, --cp) or a smaller batch");
    }
    const StepCost step = o->phase == "decode" ? sm.decode(o->batch, tokens) : sm.prefill(o->batch, tokens);
    nlohmann::ordered_json j = {{"model", model.name}, {"hardware", hw.name}, {"tp", sm.deployment().tp},
                                {"cp", sm.deployment().cp}, {"chips", sm.deployment().chips()},
                                {"parameters", model.parameter_count()}, {"memory", memory_json(mem)}};
    j["step"] = step_json(step, sm, o->cost.empty() ? nullptr : &cost);
    if (o->m.json) {
      write_output(o->m.output, j.dump(2) + "\n");
      return;
    }
    std::string text = model.name + " on " + std::to_string(sm.deployment().chips()) + " x " + hw.name + " (tp " +
                       std::to_string(sm.deployment().tp) + ", cp " + std::to_string(sm.deployment().cp) + ")\n";
    text += "  weights per chip " + format_bytes(mem.weight_bytes_per_chip) + ", KV cache room " +
            std::to_string(mem.kv_capacity_tokens) + " tokens\n";
    write_output(o->m.output, text + render_step_text(j["step"]));
  });
}

const Registrar<CommandEntry> kRegister("model", CommandEntry{setup});

}  // namespace cmd_model
}  // namespace attnsim

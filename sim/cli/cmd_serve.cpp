// `attnsim serve`: requests (Poisson or a trace) served with continuous batching on one
// deployment; throughput, TTFT / TPOT / queueing percentiles and token costs.
#include <chrono>
#include <cstdio>
#include <memory>

#include "models/serving/serving_report.h"
#include "sim/cli/command.h"
#include "sim/cli/model_options.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace {

struct Options {
  ModelOptions m;
  std::string hw, cost, trace, prompt = "fixed:2048", out = "fixed:256";
  double rate = 1, duration_s = 60;
  int64_t max_batch = 256;
  uint64_t seed = 1;
  bool exact = false;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "serving simulation: continuous batching under the KV-cache budget");
  auto o = std::make_shared<Options>();
  cmd->add_option("--hw", o->hw, "hardware config name or YAML path")->required();
  add_model_options(cmd, o->m);
  cmd->add_option("--rate", o->rate, "Poisson arrivals per second")->check(CLI::Range(1e-6, 1e6))->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "seconds of arrivals")->check(CLI::Range(1e-3, 1e7))->capture_default_str();
  cmd->add_option("--prompt", o->prompt, "prompt lengths: fixed:N | uniform:A,B | lognormal:MEDIAN,SIGMA")->capture_default_str();
  cmd->add_option("--output-tokens", o->out, "output lengths, same forms")->capture_default_str();
  cmd->add_option("--trace", o->trace, "CSV of requests (arrival_s,prompt_tokens,output_tokens) instead of Poisson");
  cmd->add_option("--max-batch", o->max_batch, "running sequences at most")->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  cmd->add_option("--seed", o->seed, "arrival and length seed")->capture_default_str();
  cmd->add_option("--cost", o->cost, "cost config name (configs/costs/) or YAML path");
  cmd->add_flag("--exact", o->exact, "evaluate every step shape (no interpolation between grid shapes)");
  cmd->callback([o] {
    require_writable_output(o->m.output);
    const HwSpec hw = load_hw_spec(resolve_hw_path(o->hw));
    const ModelSpec model = load_model_option(o->m);
    const CostConfig cost = o->cost.empty() ? CostConfig{} : load_cost_config(resolve_cost_path(o->cost));
    if (!o->cost.empty()) cost.price(hw);  // refuse an unpriced chip before simulating
    StepModel sm(hw, model, deployment_option(o->m));
    const MemoryPlan mem = sm.memory();
    if (mem.kv_capacity_tokens <= 0) {
      throw Error(model.name + ": the weights (" + format_bytes(mem.weight_bytes_per_chip) + " per chip) leave no room for a KV cache on " +
                  std::to_string(sm.deployment().chips()) + " x " + hw.name + "; use more chips (--tp)");
    }
    std::vector<Request> reqs;
    if (!o->trace.empty()) {
      reqs = load_request_trace(o->trace);
    } else {
      LengthDistribution p = parse_length_distribution(o->prompt, "--prompt"), q = parse_length_distribution(o->out, "--output-tokens");
      p.max_tokens = model.max_context_tokens;
      q.max_tokens = model.max_context_tokens;
      reqs = poisson_requests(o->rate, o->duration_s, p, q, o->seed);
    }
    for (const Request& r : reqs) {
      if (r.prompt_tokens + r.output_tokens > model.max_context_tokens) {
        throw Error("request " + std::to_string(r.id) + ": " + std::to_string(r.prompt_tokens + r.output_tokens) +
                    " tokens exceed the model's context of " + std::to_string(model.max_context_tokens));
      }
    }
    StepTable table(sm, o->exact);
    const auto t0 = std::chrono::steady_clock::now();
    const ServingResult r = simulate_serving(reqs, table, ServingOptions{o->max_batch, mem.kv_capacity_tokens});
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::ordered_json j = {{"model", model.name}, {"hardware", hw.name}, {"tp", sm.deployment().tp}, {"cp", sm.deployment().cp},
                                {"kv_capacity_tokens", mem.kv_capacity_tokens}, {"max_batch", o->max_batch},
                                {"step_shapes_evaluated", table.evaluations()}};
    j["serving"] = serving_json(r, sm, o->cost.empty() ? nullptr : &cost);
    if (!o->m.quiet) std::fprintf(stderr, "attnsim: simulated %.0f s of serving in %.2f s\n", r.makespan_s, wall_s);
    write_output(o->m.output, j.dump(2) + "\n");
  });
}

const Registrar<CommandEntry> kRegister("serve", CommandEntry{setup});

}  // namespace
}  // namespace attnsim

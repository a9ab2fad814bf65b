// `attnsim serve`: requests (Poisson or a trace) served with continuous batching on one
// deployment; throughput, TTFT / TPOT / queueing percentiles and token costs; per-request
// patterns and the admission rule (both runs on the same arrivals).
#include <chrono>
#include <cstdio>
#include <memory>

#include "models/serving/serving_report.h"
#include "models/serving/serving_text.h"
#include "sim/cli/command.h"
#include "sim/cli/model_options.h"
#include "sim/cli/serving_options.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace cmd_serve {

struct Options {
  ModelOptions m;
  ServingCliOptions s;
  std::string hw, cost, trace, prompt = "fixed:2048", out = "fixed:256";
  double rate = 1, duration_s = 60;
  int64_t max_batch = 256;
  uint64_t seed = 1;
  bool exact = false;
};

std::vector<Request> load_requests(const Options& o, const ModelSpec& model, const PatternMix& mix) {
  std::vector<Request> reqs;
  if (!o.trace.empty()) {
    reqs = load_request_trace(o.trace, mix.names());
  } else {
    LengthDistribution p = parse_length_distribution(o.prompt, "--prompt"), q = parse_length_distribution(o.out, "--output-tokens");
    p.max_tokens = model.max_context_tokens;
    q.max_tokens = model.max_context_tokens;
    reqs = poisson_requests(o.rate, o.duration_s, p, q, o.seed);
  }
  for (const Request& r : reqs) {
    if (r.prompt_tokens + r.output_tokens > model.max_context_tokens) {
      throw Error("request " + std::to_string(r.id) + ": " + std::to_string(r.prompt_tokens + r.output_tokens) +
                  " tokens exceed the model's context of " + std::to_string(model.max_context_tokens));
    }
  }
  assign_patterns(reqs, mix, o.seed);
  return reqs;
}

nlohmann::ordered_json rule_json(const ServingCliOptions& s, const PatternSet& set) {
  nlohmann::ordered_json j = {{"measure", s.admit.measure}, {"quantile", s.admit.quantile}, {"max_keys", s.admit.max_keys}};
  if (s.admit.measure == "scattered_keys") j["block_tokens"] = s.admit.block_tokens;
  j["mode"] = s.admit_mode;
  if (set.fallback >= 0) j["fallback"] = set.classes[static_cast<size_t>(set.fallback)].name;
  return j;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "serving simulation: continuous batching under the KV-cache budget");
  auto o = std::make_shared<Options>();
  cmd->add_option("--hw", o->hw, "hardware config name or YAML path")->required();
  add_model_options(cmd, o->m);
  cmd->add_option("--rate", o->rate, "Poisson arrivals per second")->check(CLI::Range(1e-6, 1e6))->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "seconds of arrivals")->check(CLI::Range(1e-3, 1e7))->capture_default_str();
  cmd->add_option("--prompt", o->prompt, "prompt lengths: fixed:N | uniform:A,B | lognormal:MEDIAN,SIGMA")->capture_default_str();
  cmd->add_option("--output-tokens", o->out, "output lengths, same forms")->capture_default_str();
  cmd->add_option("--trace", o->trace, "CSV of requests (arrival_s,prompt_tokens,output_tokens[,pattern]) instead of Poisson");
  cmd->add_option("--max-batch", o->max_batch, "running sequences at most")->check(CLI::Range(int64_t{1}, int64_t{1} << 20))->capture_default_str();
  cmd->add_option("--seed", o->seed, "arrival, length and pattern seed")->capture_default_str();
  cmd->add_option("--cost", o->cost, "cost config name (configs/costs/) or YAML path");
  cmd->add_flag("--exact", o->exact, "evaluate every step shape (no interpolation between grid shapes)");
  add_serving_options(cmd, o->s);
  cmd->callback([o, cmd] {
    require_writable_output(o->m.output);
    check_serving_options(cmd, o->s, o->m.cp);
    const HwSpec hw = load_hw_spec(resolve_hw_path(o->hw));
    const ModelSpec model = load_model_option(o->m);
    const CostConfig cost = o->cost.empty() ? CostConfig{} : load_cost_config(resolve_cost_path(o->cost));
    if (!o->cost.empty()) cost.price(hw);  // refuse an unpriced chip before simulating
    PatternMix mix;
    const PatternSet set = serving_patterns(o->s, model, &mix);
    ServingModels models(hw, model, deployment_option(o->m), set, o->exact);
    StepModel& sm = models.base();
    const MemoryPlan mem = sm.memory();
    if (mem.kv_capacity_tokens <= 0) {
      throw Error(model.name + ": the weights (" + format_bytes(mem.weight_bytes_per_chip) + " per chip) leave no room for a KV cache on " +
                  std::to_string(sm.deployment().chips()) + " x " + hw.name + "; use more chips (--tp)");
    }
    const std::vector<Request> reqs = load_requests(*o, model, mix);
    const AdmissionRule rule = admission_rule(o->s, set);
    IrregularityTable irregularity(class_models(set, model), o->s.admit);
    const auto t0 = std::chrono::steady_clock::now();
    const ServingRun run = serve_requests(reqs, models.table(), scheduler_options(o->s, o->max_batch, mem.kv_capacity_tokens), rule,
                                          &irregularity, true);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::ordered_json j = {{"model", model.name}, {"hardware", hw.name}, {"tp", sm.deployment().tp}, {"cp", sm.deployment().cp},
                                {"kv_capacity_tokens", mem.kv_capacity_tokens}, {"max_batch", o->max_batch}};
    if (o->s.kv_policy != "reserve" || o->s.prefill_chunk_tokens > 0 || o->s.max_prefill_tokens > 0) {
      j["scheduler"] = {{"kv_policy", o->s.kv_policy}, {"prefill_chunk_tokens", o->s.prefill_chunk_tokens},
                        {"max_prefill_tokens", o->s.max_prefill_tokens}};
    }
    j["step_shapes_evaluated"] = models.table().evaluations();
    const CostConfig* priced = o->cost.empty() ? nullptr : &cost;
    j["serving"] = serving_json(run.result, sm, priced);
    const AdmissionResult* decided = rule.enabled ? &run.admission : nullptr;
    if (!mix.entries.empty() || rule.enabled) j["patterns"] = pattern_table_json(set.classes, reqs, run.result, decided);
    if (rule.enabled) {
      int64_t n[3] = {0, 0, 0};
      for (const Admission d : run.admission.decision) ++n[static_cast<int>(d)];
      j["admission"] = {{"rule", rule_json(o->s, set)}, {"admitted", n[0]}, {"rejected", n[1]}, {"downgraded", n[2]},
                        {"without_rule", serving_json(*run.without_rule, sm, priced)},
                        {"patterns_without_rule", pattern_table_json(set.classes, reqs, *run.without_rule, nullptr)}};
    }
    if (!o->m.quiet) std::fprintf(stderr, "attnsim: simulated %.0f s of serving in %.2f s\n", run.result.makespan_s, wall_s);
    write_output(o->m.output, o->m.json ? j.dump(2) + "\n" : serving_text(j));
  });
}

const Registrar<CommandEntry> kRegister("serve", CommandEntry{setup});

}  // namespace cmd_serve
}  // namespace attnsim

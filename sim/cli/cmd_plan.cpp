// `attnsim plan`: the cheapest deployment that serves a load within an SLO. For every
// hardware x attention pattern x tensor/context parallelism x batch limit it adds model
// replicas (each taking an equal share of the Poisson load) until the serving simulation
// meets p99 TTFT and p99 TPOT, and prints every candidate with its chips and $/1M tokens.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "models/serving/serving_report.h"
#include "sim/cli/command.h"
#include "sim/cli/model_options.h"
#include "sim/cli/serving_options.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace cmd_plan {

struct Options {
  ModelOptions m;
  ServingCliOptions s;
  std::vector<std::string> hw, patterns;
  std::vector<int> tps = {1, 2, 4, 8}, cps = {1};
  std::vector<int64_t> batches = {64, 256};
  std::string cost = "cloud-on-demand", prompt, out = "fixed:256";
  int64_t context = 8192;
  double rate = 1, duration_s = 120, slo_ttft_ms = 2000, slo_tpot_ms = 100;
  int max_replicas = 64;
  uint64_t seed = 1;
};

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "cheapest hardware, chips, batch limit and pattern that meet a latency SLO");
  auto o = std::make_shared<Options>();
  cmd->add_option("--hw", o->hw, "hardware configs to consider (repeat)")->required();
  add_model_options(cmd, o->m, false);
  cmd->add_option("--patterns", o->patterns, "attention patterns to consider (YAML mappings; 'model' = the model's own)");
  cmd->add_option("--tp", o->tps, "tensor-parallel degrees to consider")->capture_default_str();
  cmd->add_option("--cp", o->cps, "context-parallel degrees to consider")->capture_default_str();
  cmd->add_option("--max-batch", o->batches, "batch limits to consider")->capture_default_str();
  cmd->add_option("--context", o->context, "prompt tokens per request")->check(CLI::Range(int64_t{1}, int64_t{1} << 24))->capture_default_str();
  cmd->add_option("--output-tokens", o->out, "output lengths: fixed:N | uniform:A,B | lognormal:MEDIAN,SIGMA")->capture_default_str();
  cmd->add_option("--rate", o->rate, "requests per second (Poisson)")->check(CLI::Range(1e-6, 1e6))->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "seconds of simulated arrivals per candidate")->check(CLI::Range(1.0, 1e6))->capture_default_str();
  cmd->add_option("--slo-ttft-ms", o->slo_ttft_ms, "p99 time to first token")->check(CLI::Range(1e-3, 1e9))->capture_default_str();
  cmd->add_option("--slo-tpot-ms", o->slo_tpot_ms, "p99 time per output token")->check(CLI::Range(1e-3, 1e9))->capture_default_str();
  cmd->add_option("--max-replicas", o->max_replicas, "replicas tried per candidate")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--cost", o->cost, "cost config name (configs/costs/) or YAML path")->capture_default_str();
  cmd->add_option("--seed", o->seed, "arrival and pattern seed")->capture_default_str();
  add_serving_options(cmd, o->s);
  cmd->callback([o, cmd] {
    require_writable_output(o->m.output);
    check_serving_options(cmd, o->s, *std::max_element(o->cps.begin(), o->cps.end()));
    if (!o->s.pattern_mix.empty() && !o->patterns.empty()) {
      throw Error("--patterns and --pattern-mix are two ways to pick patterns: give one (a mix's 'model' entries use the model's own)");
    }
    const bool rule_on = o->s.rule_on();
    const CostConfig cost = load_cost_config(resolve_cost_path(o->cost));
    std::vector<HwSpec> hws;
    for (const std::string& h : o->hw) {
      hws.push_back(load_hw_spec(resolve_hw_path(h)));
      cost.price(hws.back());  // every chip must be priced before any simulation
    }
    std::vector<std::string> patterns = !o->s.pattern_mix.empty() ? std::vector<std::string>{"mix"}
                                        : o->patterns.empty()     ? std::vector<std::string>{"model"}
                                                                  : o->patterns;
    LengthDistribution outd = parse_length_distribution(o->out, "--output-tokens");
    const ModelSpec base = load_model_option(o->m);
    outd.max_tokens = base.max_context_tokens;
    if (o->context + 1 > base.max_context_tokens) throw Error("--context " + std::to_string(o->context) + " leaves no room for output in the model's context of " + std::to_string(base.max_context_tokens));
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    int best = -1;
    double best_usd_h = 0;
    for (const HwSpec& hw : hws) {
      for (const std::string& pat : patterns) {
        ModelOptions mo = o->m;
        mo.pattern = pat == "model" || pat == "mix" ? "" : pat;
        const ModelSpec model = load_model_option(mo);
        PatternMix mix;
        const PatternSet set = serving_patterns(o->s, model, &mix);
        const AdmissionRule rule = admission_rule(o->s, set);
        IrregularityTable irregularity(class_models(set, model), o->s.admit);
        for (int cp : o->cps) {
          for (int tp : o->tps) {
            nlohmann::ordered_json row = {{"hardware", hw.name}, {"pattern", pat}, {"tp", tp}, {"cp", cp}};
            Deployment d = deployment_option(mo);
            d.tp = tp;
            d.cp = cp;
            std::unique_ptr<ServingModels> models;
            try {
              models = std::make_unique<ServingModels>(hw, model, d, set, false);
            } catch (const Error& e) {
              continue;  // this split is impossible (heads, chips): not a candidate
            }
            StepModel* sm = &models->base();
            const MemoryPlan mem = sm->memory();
            if (mem.kv_capacity_tokens < o->context + 1) continue;  // weights leave no room for one request
            if (!o->m.quiet) std::fprintf(stderr, "attnsim: plan %s %s tp %d cp %d\n", hw.name.c_str(), pat.c_str(), tp, cp);
            for (int64_t mb : o->batches) {
              nlohmann::ordered_json r = row;
              r["max_batch"] = mb;
              bool met = false;
              for (int rep = 1; rep <= o->max_replicas && !met; rep = rep < 4 ? rep + 1 : rep * 2) {
                LengthDistribution pd;
                pd.a = static_cast<double>(o->context);
                std::vector<Request> reqs = poisson_requests(o->rate / rep, o->duration_s * rep, pd, outd, o->seed);
                assign_patterns(reqs, mix, o->seed);
                const ServingRun run = serve_requests(reqs, models->table(), scheduler_options(o->s, mb, mem.kv_capacity_tokens), rule,
                                                      &irregularity, false);
                const ServingResult& s = run.result;
                met = s.rejected == 0 && s.ttft_s.p99 * 1e3 <= o->slo_ttft_ms && s.tpot_s.p99 * 1e3 <= o->slo_tpot_ms;
                const nlohmann::ordered_json sj = serving_json(s, *sm, &cost);
                r["replicas"] = rep;
                r["chips"] = rep * tp * cp;
                r["p99_ttft_ms"] = s.ttft_s.p99 * 1e3;
                r["p99_tpot_ms"] = s.tpot_s.p99 * 1e3;
                r["usd_per_hour"] = rep * tp * cp * cost.price(hw).usd_per_chip_hour;
                r["usd_per_million_input_tokens"] = sj.contains("cost") ? sj["cost"]["usd_per_million_input_tokens"] : nlohmann::ordered_json();
                r["usd_per_million_output_tokens"] = sj.contains("cost") ? sj["cost"]["usd_per_million_output_tokens"] : nlohmann::ordered_json();
                r["attention_share"] = sj["attention_share"];
                if (rule_on) r["rejected_by_rule"] = static_cast<int64_t>(reqs.size() - run.admission.served.size());
                r["meets_slo"] = met;
              }
              if (met && (best < 0 || r["usd_per_hour"].get<double>() < best_usd_h)) {
                best = static_cast<int>(rows.size());
                best_usd_h = r["usd_per_hour"].get<double>();
              }
              rows.push_back(r);
            }
          }
        }
      }
    }
    nlohmann::ordered_json j = {{"model", base.name}, {"context", o->context}, {"rate", o->rate},
                                {"slo", {{"p99_ttft_ms", o->slo_ttft_ms}, {"p99_tpot_ms", o->slo_tpot_ms}}},
                                {"cost_config", cost.name}, {"candidates", rows}};
    if (o->s.kv_policy != "reserve" || o->s.prefill_chunk_tokens > 0 || o->s.max_prefill_tokens > 0) {
      j["scheduler"] = {{"kv_policy", o->s.kv_policy}, {"prefill_chunk_tokens", o->s.prefill_chunk_tokens},
                        {"max_prefill_tokens", o->s.max_prefill_tokens}};
    }
    if (!o->s.pattern_mix.empty()) j["pattern_mix"] = o->s.pattern_mix;
    if (rule_on) {
      j["admission_rule"] = {{"measure", o->s.admit.measure}, {"quantile", o->s.admit.quantile}, {"max_keys", o->s.admit.max_keys},
                             {"block_tokens", o->s.admit.block_tokens}, {"mode", o->s.admit_mode}};
    }
    j["cheapest"] = best >= 0 ? rows[static_cast<size_t>(best)] : nlohmann::ordered_json();
    if (o->m.json) {
      write_output(o->m.output, j.dump(2) + "\n");
      return;
    }
    std::string text;
    char line[512];
    // With the admission rule, the requests it rejected (at the last replica count tried) before SLO.
    const std::string rejected_head = rule_on ? " rule-rejected" : "";
    std::snprintf(line, sizeof line, "%-10s %-44s %3s %3s %5s %4s %5s %10s %10s %9s %9s %9s%s %5s\n", "hardware", "pattern", "tp", "cp",
                  "batch", "rep", "chips", "p99TTFTms", "p99TPOTms", "$/h", "$/1M in", "$/1M out", rejected_head.c_str(), "SLO");
    text += line;
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      auto num = [](const nlohmann::ordered_json& v) { return v.is_number() ? v.get<double>() : -1.0; };
      char rejected[32] = "";
      if (rule_on) std::snprintf(rejected, sizeof rejected, " %13lld", static_cast<long long>(r["rejected_by_rule"].get<int64_t>()));
      std::snprintf(line, sizeof line, "%-10s %-44s %3d %3d %5lld %4d %5d %10.1f %10.2f %9.2f %9.3f %9.3f%s %5s%s\n",
                    r["hardware"].get<std::string>().c_str(), r["pattern"].get<std::string>().substr(0, 44).c_str(), r["tp"].get<int>(),
                    r["cp"].get<int>(), static_cast<long long>(r["max_batch"].get<int64_t>()), r["replicas"].get<int>(), r["chips"].get<int>(),
                    num(r["p99_ttft_ms"]), num(r["p99_tpot_ms"]), num(r["usd_per_hour"]), num(r["usd_per_million_input_tokens"]),
                    num(r["usd_per_million_output_tokens"]), rejected, r["meets_slo"].get<bool>() ? "yes" : "no",
                    static_cast<int>(i) == best ? "  <- cheapest" : "");
      text += line;
    }
    if (best < 0) text += "no candidate meets the SLO\n";
    write_output(o->m.output, text);
  });
}

const Registrar<CommandEntry> kRegister("plan", CommandEntry{setup});

}  // namespace cmd_plan
}  // namespace attnsim

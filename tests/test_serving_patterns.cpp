// Per-request patterns and the admission rule (issue 7): the irregularity measure on
// patterns whose rows can be counted by hand, a hand-built mix where the rule rejects (or
// downgrades) exactly the irregular requests, mixed-pattern decode steps costed per class,
// pattern draws and trace columns.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "models/serving/serving_report.h"
#include "models/serving/serving_setup.h"
#include "tests/cli_helpers.h"
#include "tests/serving_helpers.h"

using namespace attnsim;
using attnsim_test::h100;
using attnsim_test::tiny_model;
using Catch::Matchers::Contains;

namespace {

YAML::Node pattern(const std::string& flow) { return load_yaml_string(flow, "test"); }

// window: 64 keys; scattered: clustered_topk keeping half the earlier keys, token by token.
PatternMix hand_mix() {
  return parse_pattern_mix("[{name: window, share: 0.5, pattern: {name: sliding_window, window_tokens: 64}},"
                           " {name: scattered, share: 0.25, pattern: {name: clustered_topk, density: 0.5, causal: true}},"
                           " {name: causal, share: 0.25, pattern: model}]",
                           tiny_model());
}

}  // namespace

TEST_CASE("irregularity: quantiles of keys per row, counted from the pattern", "[serving]") {
  const ModelSpec m = tiny_model();
  IrregularityRule rule;  // 90%, scattered keys outside 64-key blocks
  // 2048 rows, 256 sampled at positions p = 4 (2i + 1) = 4, 12, 20, ...: a causal row has
  // (p + 1) mod 64 keys outside whole blocks, here 5, 13, ..., 61 equally often; the 231st
  // smallest of 256 (the 90% nearest rank) is 61.
  CHECK(pattern_irregularity(pattern("{name: causal}"), m, 2048, rule) == 61);
  // Every key counts: a 64-key window row has min(p + 1, 64) keys; all but 8 sampled rows have 64.
  rule.measure = "keys";
  CHECK(pattern_irregularity(pattern("{name: sliding_window, window_tokens: 64}"), m, 2048, rule) == 64);
  // Causal keys: row p has p + 1; the 231st sampled row (i = 230) is p = 4 x 461.
  CHECK(pattern_irregularity(pattern("{name: causal}"), m, 2048, rule) == 4 * 461 + 1);
  // Short prompts: every row, exactly.
  rule.quantile = 1.0;
  CHECK(pattern_irregularity(pattern("{name: causal}"), m, 100, rule) == 100);
  // Block-aligned selections are regular, token-level ones are not (half of ~1000 keys scattered).
  rule = IrregularityRule{};
  CHECK(pattern_irregularity(pattern("{name: clustered_topk, density: 0.5, cluster_tokens: 64, causal: true}"), m, 2048, rule) <= 64);
  CHECK(pattern_irregularity(pattern("{name: clustered_topk, density: 0.5, causal: true}"), m, 2048, rule) > 600);
}

TEST_CASE("admission rule: rejects or downgrades exactly the irregular requests", "[serving]") {
  const PatternMix mix = hand_mix();
  const ModelSpec model = tiny_model();
  // window 2048, scattered 2048 (irregular), causal 2048, scattered 128 (within 256 scattered keys).
  std::vector<Request> reqs = {{0, 0.0, 2048, 4, 0}, {1, 0.001, 2048, 4, 1}, {2, 0.002, 2048, 4, 2}, {3, 0.003, 128, 4, 1}};
  PatternSet set = pattern_set(mix, "", model);
  IrregularityTable irregularity(class_models(set, model), IrregularityRule{});
  AdmissionRule rule{true, false, -1};
  const AdmissionResult rejected = apply_admission(reqs, rule, irregularity);
  CHECK(rejected.decision == std::vector<Admission>{Admission::admitted, Admission::rejected, Admission::admitted, Admission::admitted});
  REQUIRE(rejected.served.size() == 3);
  // Between grid lengths (2048 and 2496) the measure is interpolated: 2272 is half way.
  const YAML::Node scattered = set.classes[1].pattern;
  CHECK(irregularity.measure(1, 2272) == Approx((pattern_irregularity(scattered, model, 2048, IrregularityRule{}) +
                                                 pattern_irregularity(scattered, model, 2496, IrregularityRule{})) / 2));
  CHECK(rejected.served[1].id == 2);
  // Downgrade to the model's own layers (the 'causal' entry): served, with that class's cost.
  set = pattern_set(mix, "model", model);
  CHECK(set.fallback == 2);
  rule = AdmissionRule{true, true, set.fallback};
  const AdmissionResult downgraded = apply_admission(reqs, rule, irregularity);
  CHECK(downgraded.decision[1] == Admission::downgraded);
  REQUIRE(downgraded.served.size() == 4);
  CHECK(downgraded.served[1].pattern == 2);
  CHECK(downgraded.served[3].pattern == 1);
  // Both runs on the same arrivals, and the per-pattern table counts by the requested class.
  ServingModels models(h100(), model, Deployment{}, set, true);
  const ServingRun run = serve_requests(reqs, models.table(), ServingOptions{8, 100000}, rule, &irregularity, true);
  REQUIRE(run.without_rule);
  CHECK(run.result.completed == 4);
  const nlohmann::ordered_json table = pattern_table_json(set.classes, reqs, run.result, &run.admission);
  CHECK(table[1]["requests"] == 2);
  CHECK(table[1]["downgraded"] == 1);
  CHECK(table[1]["served"] == 1);
  CHECK(table[2]["served"] == 2);
  // A fallback that is neither an entry nor 'model' is a class of its own.
  CHECK(pattern_set(mix, "{name: dense}", model).classes.back().name == "fallback");
  CHECK_THROWS_WITH(pattern_set(mix, "nonsense", model), Contains("expected an entry of the pattern mix (window, scattered, causal)"));
}

TEST_CASE("serving: a decode step of several pattern classes sums attention per class", "[serving]") {
  const ModelSpec model = tiny_model();
  const PatternSet set = pattern_set(hand_mix(), "", model);
  ServingModels models(h100(), model, Deployment{}, set, true);
  StepWork w;
  w.decode = {{0, 2, 2 * 1000}, {2, 1, 3000}};
  const StepTime t = models.table().step(w);
  StepModel window(h100(), class_model(model, set.classes[0]), Deployment{});
  StepModel causal(h100(), model, Deployment{});
  // Non-attention once, for 3 sequences (at their mean context, which it does not depend on).
  const StepCost whole = window.decode(3, 1667);
  const double attention = window.attention_s(true, 2, 1, 1000) + causal.attention_s(true, 1, 1, 3000);
  CHECK(t.attention_s == Approx(attention).epsilon(1e-12));
  CHECK(t.time_s == Approx(whole.time_s - whole.category_s("attention") + attention).epsilon(1e-12));
  CHECK(t.prefill_s == 0);
  // A window of 64 keys costs less than the causal row over 3000 keys.
  CHECK(window.attention_s(true, 1, 1, 3000) < causal.attention_s(true, 1, 1, 3000));
}

TEST_CASE("pattern mix: draws by share on a stream of its own, traces name entries", "[serving]") {
  const PatternMix mix = hand_mix();
  LengthDistribution len{"fixed", 100, 0, 4096};
  std::vector<Request> a = poisson_requests(100, 100, len, len, 5), b = a;
  const std::vector<Request> plain = a;
  assign_patterns(a, mix, 5);
  assign_patterns(b, mix, 5);
  int64_t count[3] = {0, 0, 0}, differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    differ += a[i].pattern != b[i].pattern;          // same seed, same draws
    differ += a[i].arrival_s != plain[i].arrival_s;  // arrivals untouched
    ++count[a[i].pattern];
  }
  CHECK(differ == 0);
  // ~10000 draws: shares 0.5 / 0.25 / 0.25 within 4 standard deviations (~0.02).
  const double n = static_cast<double>(a.size());
  CHECK(std::abs(count[0] / n - 0.5) < 0.02);
  CHECK(std::abs(count[1] / n - 0.25) < 0.02);
  const std::string csv = attnsim_test::write_temp_file(
      "attnsim_trace_patterns.csv", "arrival_s,prompt_tokens,output_tokens,pattern\n0.0,10,2,causal\n0.5,10,2,\n1.0,10,2,window\n");
  const std::vector<Request> t = load_request_trace(csv, mix.names());
  REQUIRE(t.size() == 3);
  CHECK(t[0].pattern == 2);
  CHECK(t[1].pattern == -1);  // drawn later
  CHECK(t[2].pattern == 0);
  CHECK_THROWS_WITH(load_request_trace(csv, {}), Contains("give --pattern-mix"));
  std::filesystem::remove(csv);
}

TEST_CASE("serve: prints the rule's effect from both runs, the same seed gives the same bytes", "[serving][cli]") {
  attnsim_test::CliDir dir;
  attnsim_test::write_text(dir.file("tiny.yaml"), "name: tiny\nlayers: 2\nhidden: 256\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\n"
                                                  "ffn: 512\nvocab: 1000\nmax_context: 4096\nattention: {pattern: {name: causal}}\n");
  const std::string mix = "[{name: window, share: 0.5, pattern: {name: sliding_window, window_tokens: 64}},"
                          " {name: scattered, share: 0.5, pattern: {name: clustered_topk, density: 0.5, causal: true}}]";
  const std::vector<std::string> args = {"serve", "--hw", "h100-sxm", "-w", dir.file("tiny.yaml"), "--rate", "50", "--duration", "2",
                                         "--prompt", "uniform:64,2048", "--output-tokens", "fixed:8", "--pattern-mix", mix,
                                         "--admit-max-keys", "256", "--seed", "3", "-q"};
  std::vector<std::string> json = args;
  json.push_back("--json");
  const attnsim_test::CliResult a = attnsim_test::run_cli(json, dir.path), b = attnsim_test::run_cli(json, dir.path);
  REQUIRE(a.rc == 0);
  CHECK(a.out == b.out);
  const nlohmann::json j = nlohmann::json::parse(a.out);
  const nlohmann::json& adm = j["admission"];
  CHECK(adm["rejected"].get<int>() > 0);
  CHECK(j["serving"]["requests"] == adm["admitted"]);  // the rejected ones never enter the run with the rule
  CHECK(adm["without_rule"]["requests"] == adm["admitted"].get<int>() + adm["rejected"].get<int>());
  CHECK(j["patterns"].size() == 2);
  const attnsim_test::CliResult text = attnsim_test::run_cli(args, dir.path);
  CHECK(text.rc == 0);
  CHECK_THAT(text.out, Contains("effect of the rule"));
  char line[64];
  std::snprintf(line, sizeof line, "%14.2f", adm["without_rule"]["ttft_ms"]["p99"].get<double>());
  CHECK_THAT(text.out, Contains(line));
}

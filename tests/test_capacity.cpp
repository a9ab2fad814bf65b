// Whole-model capacity planning on hand-computable cases (issue 7): model descriptions,
// the GPU GEMM model against its H100 validation subset, cost arithmetic, ring
// collectives, KV-cache capacity, and the step model's bookkeeping. Expected numbers are
// derived in the comments, never copied from a run.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/llm/collectives.h"
#include "models/llm/cost_model.h"
#include "models/llm/i_gemm_model.h"
#include "models/llm/model_spec.h"
#include "models/llm/step_model.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "tests/cli_helpers.h"

using namespace attnsim;
using Catch::Matchers::Contains;

namespace {

ModelSpec tiny_model(const std::string& extra = "") {
  return parse_model_spec(load_yaml_string("name: tiny\nlayers: 2\nhidden: 256\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\n"
                                           "ffn: 512\nvocab: 1000\nmax_context: 4096\nattention: {pattern: {name: causal}}\n" + extra,
                                           "tiny.yaml"),
                          "tiny.yaml");
}

HwSpec h100() { return load_hw_spec(resolve_hw_path("h100-sxm")); }

Deployment split(int tp, int cp) {
  Deployment d;
  d.tp = tp;
  d.cp = cp;
  return d;
}

}  // namespace

TEST_CASE("model spec: shipped models load with their published shapes", "[capacity]") {
  const ModelSpec l8 = load_model_spec(resolve_model_path("llama3-8b"));
  // 32 x (4096 x 4096 x 2 + 2 x 4096 x 1024 + 3 x 4096 x 14336 + 2 x 4096) + 2 x 128256 x 4096 + 4096 = 8.03e9
  CHECK(l8.parameter_count() == Approx(8.030261248e9).epsilon(1e-9));
  CHECK(l8.kv_bytes_per_token() == 2.0 * 32 * 8 * 128 * 2);  // 131072 B = 128 KiB per token
  CHECK(load_model_spec(resolve_model_path("llama3-70b")).parameter_count() == Approx(70.55e9).epsilon(0.001));
  const ModelSpec mistral = load_model_spec(resolve_model_path("mistral-7b"));
  REQUIRE(mistral.attention.size() == 1);
  CHECK(mistral.attention[0].pattern["window_tokens"].as<int>() == 4096);
  // 80 layers: every fourth from layer 3 is global (20), the other 60 windowed.
  const ModelSpec big = load_model_spec(resolve_model_path("dense-100b-128k"));
  REQUIRE(big.attention.size() == 2);
  CHECK(big.attention[0].layer_count == 60);
  CHECK(big.attention[1].layer_count == 20);
  CHECK(big.parameter_count() == Approx(101.6e9).epsilon(0.005));
  CHECK(big.max_context_tokens == 131072);
}

TEST_CASE("model spec: bad descriptions are refused with the key", "[capacity]") {
  CHECK_THROWS_WITH(tiny_model("extra_key: 1\n"), Contains("extra_key"));
  CHECK_THROWS_WITH(parse_model_spec(load_yaml_string("name: x\nlayers: 2\nhidden: 8\nq_heads: 4\nkv_heads: 3\nhead_dim: 2\nffn: 8\n"
                                                      "vocab: 8\nmax_context: 8\nattention: {pattern: {name: causal}}\n", "x"), "x"),
                    Contains("kv_heads (3) must divide q_heads (4)"));
  CHECK_THROWS_WITH(parse_model_spec(load_yaml_string(
      "name: t\nlayers: 2\nhidden: 8\nq_heads: 4\nkv_heads: 2\nhead_dim: 2\nffn: 8\nvocab: 8\nmax_context: 8\n"
      "attention: {pattern: {name: causal}, layers: [{range: '1-5', pattern: {name: dense}}]}\n", "t"), "t"),
                    Contains("not a layer range within 0-1"));
  CHECK_THROWS_WITH(resolve_model_path("llama3-8"), Contains("did you mean 'llama3-8b'"));
}

TEST_CASE("cost: cloud and owned $/chip-hour, $/1M tokens and J/token by hand", "[capacity]") {
  const HwSpec hw = h100();  // tdp 700 W
  const CostConfig cloud = parse_cost_config(load_yaml_string("name: c\npue: 1.5\nelectricity: 0.1\nhardware: {h100-sxm: {price_per_chip_hour: 3.6}}\n", "c"), "c");
  // $3.6/h = $0.001/s; 2 chips for 0.5 s over 1000 tokens: 2 x 0.001 x 0.5 / 1000 = $1e-6 per token = $1 per 1M.
  const TokenCost t = token_cost(cloud, hw, 2, 0.5, 1000);
  CHECK(t.usd_per_million_tokens == Approx(1.0));
  CHECK(t.joules_per_token == Approx(2 * 700 * 0.5 / 1000));  // 0.7 J
  CHECK(t.facility_joules_per_token == Approx(0.7 * 1.5));
  // Owned: 8766 $ over 1 year = $1/h, plus 0.5 kW x PUE 2 x $0.1/kWh = $0.1/h.
  const CostConfig owned = parse_cost_config(load_yaml_string("name: o\npue: 2\nelectricity: 0.1\nhardware: {h100-sxm: {capex_per_chip: 8766, lifetime_years: 1, power: 500W}}\n", "o"), "o");
  CHECK(owned.price(hw).usd_per_chip_hour == Approx(1.1));
  CHECK(owned.price(hw).power_w == 500);
  CHECK_THROWS_WITH(cloud.price(load_hw_spec(resolve_hw_path("b200"))), Contains("no price for hardware 'b200'"));
  CHECK_THROWS_WITH(parse_cost_config(load_yaml_string("name: c\npue: 1\nelectricity: 0\nhardware: {b200: {price_per_chip_hour: 1, capex_per_chip: 2}}\n", "c"), "c"),
                    Contains("either price_per_chip_hour"));
  // Shipped configs price every shipped GPU they list.
  CHECK(load_cost_config(resolve_cost_path("cloud-on-demand")).price(hw).usd_per_chip_hour == Approx(3.78));
}

TEST_CASE("collectives: ring all-reduce and all-gather by hand", "[capacity]") {
  InterconnectSpec link;
  link.bandwidth_bytes_per_s = 100e9;
  link.latency_s = 1e-6;
  // 4 chips, 1 GB: all-reduce 2 x 3/4 x 1e9 / 1e11 = 15 ms + 6 x 1 us.
  CHECK(ring_all_reduce_s(link, 4, 1e9) == Approx(0.015 + 6e-6));
  CHECK(ring_all_gather_s(link, 4, 1e9) == Approx(0.0075 + 3e-6));
  CHECK(ring_all_reduce_s(link, 1, 1e9) == 0);
  CHECK(ring_pass_s(link, 1e9) == Approx(0.01 + 1e-6));
}

TEST_CASE("memory plan: weights per chip and the KV-cache capacity limit", "[capacity]") {
  const HwSpec hw = h100();  // 80 GB
  const ModelSpec l70 = load_model_spec(resolve_model_path("llama3-70b"));
  // 70.55e9 params x 2 B = 141 GB: no room on one chip at 90% of 80 GB.
  CHECK(StepModel(hw, l70, split(1, 1)).memory().kv_capacity_tokens == 0);
  // tp 8: KV heads 8/8 = 1 per chip: 80 layers x 2 x 1 x 128 x 2 B = 40960 B per token per chip.
  const MemoryPlan p8 = StepModel(hw, l70, split(8, 1)).memory();
  CHECK(p8.kv_bytes_per_token_per_chip == 40960);
  CHECK(p8.kv_capacity_tokens == static_cast<int64_t>(std::floor((72e9 - p8.weight_bytes_per_chip) / 40960)));
  // tp 4 x cp 2: 2 KV heads per chip (81920 B per token), and the two groups hold twice the tokens.
  const MemoryPlan p42 = StepModel(hw, l70, split(4, 2)).memory();
  CHECK(p42.kv_bytes_per_token_per_chip == 81920);
  CHECK(p42.kv_capacity_tokens == 2 * static_cast<int64_t>(std::floor((72e9 - p42.weight_bytes_per_chip) / 81920)));
  // tp beyond kv_heads replicates KV heads: tp 16 keeps 1 KV head per chip (refused: max 8 chips on NVLink).
  CHECK_THROWS_WITH(StepModel(hw, l70, split(16, 1)), Contains("exceed the interconnect's 8"));
  CHECK_THROWS_WITH(StepModel(hw, l70, split(3, 1)), Contains("must divide the 64 query heads"));
  // Hand case: tiny model on one H100: weights (2 x (2x256x256 + 2x256x128 + 3x256x512 + 512) + 2x1000x256 + 256) x 2 B.
  const MemoryPlan t = StepModel(hw, tiny_model(), Deployment{}).memory();
  const double params = 2.0 * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 512 + 512) + 2.0 * 1000 * 256 + 256;
  CHECK(t.weight_bytes_per_chip == params * 2);
  CHECK(t.kv_bytes_per_token_per_chip == 2.0 * 2 * 2 * 64 * 2);
  CHECK(t.kv_capacity_tokens == static_cast<int64_t>(std::floor((72e9 - params * 2) / 1024)));
}

TEST_CASE("GPU GEMM model: within its targets on the H100 validation subset", "[capacity]") {
  // validation/fit_gemm.py fits on 2048^3, 8192^3, 16384x4096x4096 and 8x8192x8192; the rest validate.
  const HwSpec hw = h100();
  const auto& model = gemm_model_for(hw);
  std::ifstream in(attnsim_test::kRepo / "validation/h100/data/gemm.jsonl");
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    const auto r = nlohmann::json::parse(line);
    const GemmShape s{r["gemm_batch"], r["m"], r["n"], r["k"], Dtype::bf16};
    const double err = model.estimate(hw, s).latency_s / (r["time_us"].get<double>() * 1e-6) - 1;
    INFO(r["case_id"].get<std::string>() << " error " << err);
    // Projection and MLP shapes (m, n, k >= 2048 or GEMV-like m <= 64): 16% (4096^3 ran at 1980 MHz, +15%);
    // the QK^T-shaped outputs (k <= 128) write-bound: -18%. 1024^3 is latency-bound (-27%): not used by steps.
    if (s.m >= 2048 || s.m <= 64) {
      CHECK(std::abs(err) < (s.k <= 128 ? 0.19 : 0.16));
      ++checked;
    }
  }
  CHECK(checked == 14);
  // Memory-bound decode GEMV: 8 x 8192 x 8192 bf16 = 134.4 MB. 128x128 tiles: 64 of them fill
  // half a wave, so k splits in two: fp32 partials written and read back (2 x 2 x 8 x 8192 x 4 B),
  // two launches (split kernel and reduction), at 0.856 x 3.35 TB/s.
  const GemmTiming g = model.estimate(hw, GemmShape{1, 8, 8192, 8192, Dtype::bf16});
  CHECK(g.bound == "memory");
  CHECK(g.tile == "128x128 split-k 2");
  CHECK(g.latency_s == Approx(2 * 0.8e-6 + ((8.0 * 8192 + 8192.0 * 8192 + 8.0 * 8192) * 2 + 2.0 * 2 * 8 * 8192 * 4) / (3.35e12 * 0.856)));
  // A GEMM that fills the SMs does not split: 16384 x 4096 x 4096.
  CHECK(model.estimate(hw, GemmShape{1, 16384, 4096, 4096, Dtype::bf16}).tile.find("split") == std::string::npos);
  // The small-M sweep (decode projections, never fitted): MAPE within 15%.
  std::ifstream small(attnsim_test::kRepo / "validation/h100/data/kernels/gemm_small_m.jsonl");
  double sum_err = 0;
  int n = 0;
  for (std::string line; std::getline(small, line); ++n) {
    const auto r = nlohmann::json::parse(line);
    const GemmShape s{1, r["m"], r["n"], r["k"], Dtype::bf16};
    sum_err += std::abs(model.estimate(hw, s).latency_s / (r["time_us"].get<double>() * 1e-6) - 1);
  }
  CHECK(n == 42);
  CHECK(sum_err / n < 0.15);
}

TEST_CASE("step model: operators add up, TP adds all-reduces, attention is cached per shape", "[capacity]") {
  const HwSpec hw = h100();
  StepModel one(hw, tiny_model(), Deployment{});
  const StepCost p = one.prefill(1, 1024);
  double sum = 0;
  for (const OpCost& o : p.ops) sum += o.time_s;
  CHECK(p.time_s == Approx(sum));
  CHECK(p.category_s("collective") == 0);
  // qkv: 1024 x (4 + 2 x 2) x 64 x 256 x 2 FLOP per layer, 2 layers.
  for (const OpCost& o : p.ops) {
    if (o.name == "qkv_proj") CHECK(o.flops == 2.0 * 2 * 1024 * 512 * 256);
  }
  one.prefill(1, 1024);
  CHECK(one.attention_simulations() == 1);
  StepModel two(hw, tiny_model(), split(2, 1));
  const StepCost p2 = two.prefill(1, 1024);
  // 2 all-reduces per layer of 1024 x 256 x 2 B over NVLink: 2 x 1/2 x 524288 / 450e9 + 2 x 2 us, x 4.
  CHECK(p2.category_s("collective") == Approx(4 * (524288.0 / 450e9 + 2 * 2e-6) + (1000.0 * 2 / 2 / 450e9 + 2e-6)));
  CHECK_THROWS_WITH(one.prefill(1, 8192), Contains("exceed the model's context of 4096"));
}

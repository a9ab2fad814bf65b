// Eager PyTorch kernels in the step model and `attnsim validate-model` (issue 7): the
// kernel list's bytes by hand, and the validation of whole-model steps against the committed
// H100 records, checked against an independent recomputation and gated on a doctored file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "models/llm/eager_kernels.h"
#include "models/llm/model_spec.h"
#include "models/llm/step_model.h"
#include "models/llm/step_validation.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "tests/cli_helpers.h"

using namespace attnsim;
using Catch::Matchers::Contains;

namespace {

const attnsim_test::fs::path kSteps = attnsim_test::kRepo / "validation/h100/data/model_step/model_step.jsonl";

// The measured model: Llama-3-8B's shape with 4 layers.
ModelSpec four_layer_llama() {
  return parse_model_spec(load_yaml_string("name: l4\nlayers: 4\nhidden: 4096\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\n"
                                           "ffn: 14336\nvocab: 128256\nmax_context: 32769\nattention: {pattern: {name: causal}}\n",
                                           "l4.yaml"),
                          "l4.yaml");
}

Deployment eager(const std::string& kernel) {
  Deployment d;
  d.ops = "eager";
  d.attention_kernel = kernel;
  return d;
}

// One eager kernel's time without its launch: max(bytes / (3.35 TB/s x 0.676), 1.96 us).
double kernel_us(double bytes) { return std::max(bytes / (3.35e12 * 0.676), 1.96e-6) * 1e6; }

// RMSNorm over R rows of h = 4096, by hand: x.float() 6Rh, pow 8Rh, mean 4Rh + 4R, + eps 8R,
// rsqrt 8R, x * r 8Rh + 4R, .to(bf16) 6Rh, * w 4Rh + 2h bytes.
double norm_us(double r) {
  const double h = 4096;
  double us = 0;
  for (double b : {6 * r * h, 8 * r * h, 4 * r * h + 4 * r, 8 * r, 8 * r, 8 * r * h + 4 * r, 6 * r * h, 4 * r * h + 2 * h}) us += kernel_us(b);
  return us;
}

const StepValidationRow& row(const StepValidationReport& rep, const std::string& id) {
  for (const StepValidationRow& r : rep.rows) {
    if (r.case_id == id) return r;
  }
  FAIL("no record " << id);
  return rep.rows.front();
}

}  // namespace

TEST_CASE("eager ops: PyTorch's kernel list by hand (norm 8, RoPE 10, separate q/k/v and gate/up)", "[capacity]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  CHECK(eager_rms_norm_bytes(2, 4096, 2).size() == 8);
  CHECK(eager_rope_bytes(1024, 1, 128, 2).size() == 5);
  // RMSNorm: 36 B per element, 24 B per row (mean 4, + eps 8, rsqrt 8, x * r 4) and the bf16 weight.
  double norm = 0;
  for (double b : eager_rms_norm_bytes(2, 4096, 2)) norm += b;
  CHECK(norm == 36.0 * 2 * 4096 + 24 * 2 + 2 * 4096);
  StepModel sm(hw, four_layer_llama(), eager("flash_decoding"));
  const StepCost c = sm.decode(2, 4097);
  for (const OpCost& o : c.ops) {
    INFO(o.name);
    if (o.name == "rmsnorm") CHECK(o.kernels == 8 * 2 * 4);
    if (o.name == "rope") CHECK(o.kernels == 10 * 4);
    if (o.name == "qkv_proj" || o.name == "kv_write") CHECK(o.kernels == (o.name == "qkv_proj" ? 3 : 2) * 4);
    if (o.name == "mlp_gate_up" || o.name == "silu_mul") CHECK(o.kernels == 2 * 4);
    if (o.name == "final_norm") CHECK(o.time_s == Approx((norm_us(2) + 8 * 0.8) * 1e-6));
  }
  // Fused: one kernel per norm, no KV write, the same operators otherwise.
  StepModel fused(hw, four_layer_llama(), Deployment{});
  for (const OpCost& o : fused.decode(2, 4097).ops) CHECK((o.name == "rmsnorm" ? o.kernels == 8 : o.name != "kv_write"));
  Deployment bad = eager("");
  bad.ops = "lazy";
  CHECK_THROWS_WITH(StepModel(hw, four_layer_llama(), bad), Contains("unknown ops 'lazy' (fused, eager)"));
  CHECK_THROWS_WITH(StepModel(load_hw_spec(resolve_hw_path("tpu-v5p")), four_layer_llama(), eager("")),
                    Contains("'ops: eager' describes PyTorch eager kernels on a GPU"));
}

TEST_CASE("validate-model: the committed H100 steps equal an independent recomputation", "[capacity]") {
  StepValidationOptions o;
  o.files = {kSteps.string()};
  const StepValidationReport rep = validate_steps(o);
  REQUIRE(rep.rows.size() == 14);
  CHECK(rep.sets.at("calibration").records == 5);
  CHECK(rep.sets.at("validation").records == 9);
  // Prefill 2k (validation): the step model on the record's shape, outside the validation path.
  const StepValidationRow& r = row(rep, "model-4l-prefill-s2048-b1");
  StepModel sm(load_hw_spec(resolve_hw_path("h100-sxm")), four_layer_llama(), eager("fa2"));
  const double model_us = sm.prefill(1, 2048).time_s * 1e6;
  CHECK(r.model_us == Approx(model_us));
  CHECK(r.measured_us == 8230.048);
  CHECK(r.error == Approx(model_us / 8230.048 - 1));
  CHECK(r.target == 0.08);
  // Norm group: 2 x 4 norms of 2048 rows and the final norm of 1 row, kernel time (launches excluded).
  const auto norm = std::find_if(r.groups.begin(), r.groups.end(), [](const StepGroup& g) { return g.name == "norm"; });
  REQUIRE(norm != r.groups.end());
  CHECK(norm->model_us == Approx(8 * norm_us(2048) + norm_us(1)));
  CHECK(norm->measured_us == 1127.105);
  // The validation set's MAPE is the mean |error| of its records.
  double sum = 0;
  for (const StepValidationRow& x : rep.rows) sum += x.set == "validation" ? std::abs(x.error) : 0;
  CHECK(rep.sets.at("validation").mape == Approx(sum / 9));
}

TEST_CASE("validate-model: the gate fails a record outside its target and names bad records", "[capacity]") {
  attnsim_test::CliDir dir;
  // Doctored: the decode B1 4k record (validation) measured 25% faster than the model predicts.
  StepValidationOptions o;
  o.files = {kSteps.string()};
  const double model_us = row(validate_steps(o), "model-4l-decode-b1-ctx4096").model_us;
  std::ifstream in(kSteps);
  std::string doctored;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["case_id"] == "model-4l-decode-b1-ctx4096") {
      j["time_us"] = model_us / 1.25;
      doctored = j.dump() + "\n";
    }
  }
  attnsim_test::write_text(dir.file("doctored.jsonl"), doctored);
  o.files = {dir.file("doctored.jsonl")};
  const StepValidationReport rep = validate_steps(o);
  REQUIRE(rep.rows.size() == 1);
  CHECK(rep.rows[0].error == Approx(0.25));
  CHECK_FALSE(rep.pass);
  const auto fail = attnsim_test::run_cli({"validate-model", dir.file("doctored.jsonl")}, dir.path);
  CHECK(fail.rc != 0);
  CHECK_THAT(fail.out, Contains("FAIL"));
  CHECK(attnsim_test::run_cli({"validate-model", "--no-gate", dir.file("doctored.jsonl")}, dir.path).rc == 0);
  // A record without its operator times: one line naming file:line and the field.
  auto j = nlohmann::json::parse(doctored);
  j.erase("ops_us");
  attnsim_test::write_text(dir.file("bad.jsonl"), "\n" + j.dump() + "\n");
  o.files = {dir.file("bad.jsonl")};
  CHECK_THROWS_WITH(validate_steps(o), Contains("bad.jsonl:2: missing field 'ops_us'"));
}

// attnsim validate: reading the measurement format, the fixed split, the gate.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "sim/core/error.h"
#include "sim/validate/validate.h"
#include "tests/cli_helpers.h"

using namespace attnsim;

namespace {

std::string write_jsonl(const std::string& name, const std::string& body) {
  return attnsim_test::write_temp_file("attnsim_val_" + name + ".jsonl", body);
}

std::string record(const std::string& id, double time_us, const std::string& extra = "") {
  return R"({"case_id": ")" + id +
         R"(", "hardware": "NVIDIA H100 80GB HBM3", "hardware_model": "H100 SXM", "phase": "prefill", "kernel": "fa3", )"
         R"("batch": 1, "q_heads": 16, "kv_heads": 16, "head_dim": 128, "q_len": 4096, "kv_len": 4096, )"
         R"("dtype": "bfloat16", "causal": true, "pattern": {"name": "causal"}, "status": "ok", "time_us": )" +
         std::to_string(time_us) + extra + "}\n";
}

// A case id that falls in the requested set under the fixed rule.
std::string id_in_set(bool calibration, int start = 0) {
  for (int i = start;; ++i) {
    const std::string id = "t-case-" + std::to_string(i);
    if (is_calibration_case(id) == calibration) return id;
  }
}

}  // namespace

TEST_CASE("the calibration split takes about a quarter of cases, by id only", "[validate]") {
  int cal = 0;
  for (int i = 0; i < 4000; ++i) cal += is_calibration_case("case-" + std::to_string(i));
  REQUIRE(cal > 800);
  REQUIRE(cal < 1200);
  REQUIRE(is_calibration_case("abc") == is_calibration_case("abc"));
}

TEST_CASE("validate re-simulates measured cases and gates on the validation set", "[validate]") {
  ValidateOptions opt;
  opt.progress = false;
  // A measurement far from any plausible prediction must fail the gate...
  opt.files = {write_jsonl("bad", record(id_in_set(false), 1e7))};
  ValidationReport bad = run_validation(opt);
  REQUIRE(bad.cases.size() == 1);
  REQUIRE(bad.cases[0].predicted_us > 0);
  REQUIRE_FALSE(bad.pass);
  // ...and one equal to the model's own prediction must pass.
  const double predicted = bad.cases[0].predicted_us;
  opt.files = {write_jsonl("good", record(id_in_set(false), predicted))};
  ValidationReport good = run_validation(opt);
  REQUIRE(good.cases[0].predicted_us == Approx(predicted));
  REQUIRE(good.pass);
  REQUIRE(render_validation_text(good).find("PASS") != std::string::npos);
  // Calibration cases alone never satisfy the gate: nothing was validated.
  opt.files = {write_jsonl("cal", record(id_in_set(true), predicted))};
  REQUIRE_FALSE(run_validation(opt).pass);
}

TEST_CASE("validate on several worker processes gives the single-process results", "[validate]") {
  ValidateOptions opt;
  opt.progress = false;
  std::string body;
  for (int i = 0; i < 5; ++i) body += record(id_in_set(false, i * 10), 1000.0 + i);
  opt.files = {write_jsonl("jobs", body)};
  opt.jobs = 1;
  const ValidationReport one = run_validation(opt);
  opt.jobs = 3;
  const ValidationReport three = run_validation(opt);
  REQUIRE(one.cases.size() == 5);
  REQUIRE(three.cases.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(three.cases[i].measured.case_id == one.cases[i].measured.case_id);
    CHECK(three.cases[i].predicted_us == one.cases[i].predicted_us);
    CHECK(three.cases[i].predicted_dram_read_bytes == one.cases[i].predicted_dram_read_bytes);
  }
  CHECK(render_validation_csv(three) == render_validation_csv(one));
}

TEST_CASE("bad measurement files give one clear error", "[validate]") {
  ValidateOptions opt;
  opt.progress = false;
  opt.files = {write_jsonl("json", "{not json\n")};
  REQUIRE_THROWS_WITH(run_validation(opt), Catch::Contains("not valid JSON"));
  opt.files = {write_jsonl("missing", R"({"case_id": "x", "phase": "prefill", "status": "ok", "kernel": "fa3"})" "\n")};
  REQUIRE_THROWS_WITH(run_validation(opt), Catch::Contains("missing required field"));
  opt.files = {write_jsonl("hw", record("y", 100).replace(record("y", 100).find("H100 SXM"), 8, "Z999 GPU"))};
  REQUIRE_THROWS_WITH(run_validation(opt), Catch::Contains("--hw"));
  opt.files = {write_jsonl("none", "")};
  REQUIRE_THROWS_WITH(run_validation(opt), Catch::Contains("no attention measurements"));
}

TEST_CASE("measured kernels map to attnsim kernels", "[validate]") {
  REQUIRE(attnsim_kernel_for("fa2") == "fa2");
  REQUIRE(attnsim_kernel_for("decode_fa2") == "flash_decoding");
  REQUIRE(attnsim_kernel_for("something_else").empty());
}

TEST_CASE("validate reports how many kernels' DRAM bytes are within the target", "[validate]") {
  ValidateOptions opt;
  opt.progress = false;
  const std::string a = id_in_set(false), b = id_in_set(false, 100);
  opt.files = {write_jsonl("dram0", record(a, 1000))};
  const double p = run_validation(opt).cases.at(0).predicted_dram_bytes;
  REQUIRE(p > 0);
  // The same shape twice: one measured at the model's own bytes, one at twice them.
  opt.files = {write_jsonl("dram2", record(a, 1000, ", \"dram_bytes\": " + std::to_string(p)) +
                                        record(b, 1000, ", \"dram_bytes\": " + std::to_string(2 * p)))};
  const ValidationReport rep = run_validation(opt);
  const auto& d = rep.summary["dram"];
  CHECK(d["cases"].get<int64_t>() == 2);
  CHECK(d["within_target"].get<int64_t>() == 1);
  CHECK(d["worst_error"].get<double>() == Approx(-0.5).margin(1e-6));
  CHECK(d["worst_case"].get<std::string>() == b);
  CHECK_THAT(render_validation_text(rep), Catch::Contains("DRAM bytes: 1 of 2 kernels within 10%"));
  CHECK_THAT(render_validation_markdown(rep), Catch::Contains("DRAM bytes: 1 of 2 kernels within 10%"));
}

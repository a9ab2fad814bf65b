// MXU (systolic array) compute cycles on hand-computed cases, per dataflow: one fold,
// several folds, a reduction dimension smaller than the array, ragged edges, and a
// non-square array. Each expected number is worked out in the comment beside it from
// the per-fold costs of docs/tpu-model.md, never taken from a run.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/tpu/mxu.h"
#include "sim/core/error.h"
#include "tests/cli_helpers.h"

using namespace attnsim;
using namespace attnsim_test;

namespace {

MxuCycles on4x4(Dataflow df, int64_t m, int64_t n, int64_t k) {
  MxuGemm g;
  g.rows = 4;
  g.cols = 4;
  g.dataflow = df;
  g.m = m;
  g.n = n;
  g.k = k;
  return mxu_gemm_cycles(g);
}

}  // namespace

TEST_CASE("MXU: hand-computed cycles per dataflow (one fold, several, short K, ragged)", "[mxu]") {
  // OS: Sr = M, Sc = N, T = K, K + R + C - 2 per fold. WS: Sr = K, Sc = N, T = M, 2R + C + M - 2.
  // IS: Sr = K, Sc = M, T = N, 2R + C + N - 2. Array 4 x 4 throughout.
  struct Case {
    Dataflow df;
    int64_t m, n, k;
    int64_t cycles;
    double mapping;  // mean share of PEs mapped
  };
  const auto os = Dataflow::output_stationary, ws = Dataflow::weight_stationary, is = Dataflow::input_stationary;
  const Case cases[] = {
      {os, 4, 4, 8, 14, 1.0},             // one fold: 8 + 4 + 4 - 2
      {os, 8, 12, 8, 2 * 3 * 14, 1.0},    // 2 x 3 folds
      {os, 4, 4, 2, 8, 1.0},              // K shorter than the array: 2 + 4 + 4 - 2
      {os, 5, 3, 4, 2 * 10, 15.0 / 32},   // ragged: 2 x 1 folds of 4 + 4 + 4 - 2
      {ws, 10, 4, 4, 20, 1.0},            // one fold: 8 + 4 + 10 - 2
      {ws, 10, 8, 12, 3 * 2 * 20, 1.0},   // 3 x 2 folds
      {ws, 10, 4, 2, 20, 0.5},            // K = 2: half the rows hold weights
      {ws, 3, 5, 5, 4 * 13, 25.0 / 64},   // ragged: 2 x 2 folds of 8 + 4 + 3 - 2
      {is, 4, 6, 4, 16, 1.0},             // one fold: 8 + 4 + 6 - 2
      {is, 8, 6, 8, 2 * 2 * 16, 1.0},     // 2 x 2 folds
      {is, 4, 6, 3, 16, 12.0 / 16},       // K = 3
      {is, 9, 2, 5, 2 * 3 * 12, 45.0 / 96},  // ragged: 2 x 3 folds of 8 + 4 + 2 - 2
  };
  for (const Case& c : cases) {
    CAPTURE(dataflow_name(c.df), c.m, c.n, c.k);
    const MxuCycles r = on4x4(c.df, c.m, c.n, c.k);
    CHECK(r.compute_cycles == c.cycles);
    CHECK(r.mapping_efficiency == Approx(c.mapping));
    CHECK(r.utilization == Approx(static_cast<double>(c.m * c.n * c.k) / (16.0 * c.cycles)));
  }
}

TEST_CASE("MXU: a non-square array and a large square one", "[mxu]") {
  MxuGemm g;
  g.rows = 2;
  g.cols = 3;
  g.dataflow = Dataflow::output_stationary;
  g.m = 2, g.n = 3, g.k = 5;
  CHECK(mxu_gemm_cycles(g).compute_cycles == 5 + 2 + 3 - 2);
  // 128 x 128 WS, a 4096 x 4096 x 4096 GEMM: 32 x 32 folds of 256 + 128 + 4096 - 2 = 4478 cycles.
  g.rows = g.cols = 128;
  g.dataflow = Dataflow::weight_stationary;
  g.m = g.n = g.k = 4096;
  const MxuCycles big = mxu_gemm_cycles(g);
  CHECK(big.compute_cycles == 32 * 32 * 4478);
  CHECK(big.utilization == Approx(4096.0 / 4478));
  CHECK(big.mapping_efficiency == Approx(1.0));
}

TEST_CASE("MXU: bad dataflows and sizes are clear errors, the CLI prints the cycles", "[mxu][cli]") {
  CHECK_THROWS_WITH(parse_dataflow("rs"), Catch::Matchers::Contains("use os (output stationary)"));
  MxuGemm g;
  g.m = 0, g.n = 1, g.k = 1;
  CHECK_THROWS_WITH(mxu_gemm_cycles(g), Catch::Matchers::Contains("must be positive"));
  CliDir dir;
  const CliResult ok = run_cli({"mxu", "--rows", "4", "--cols", "4", "--dataflow", "ws", "--gemm", "3,5,5", "--json"},
                               dir.path);
  REQUIRE(ok.rc == 0);
  const auto j = nlohmann::json::parse(ok.out);
  CHECK(j["compute_cycles"] == 52);
  CHECK(j["scalesim_total_cycles"] == 51);  // SCALE-Sim reports the 0-based index of the last cycle
  CHECK(j["folds"] == 4);
  const CliResult bad = run_cli({"mxu", "--gemm", "3,5"}, dir.path);
  CHECK(bad.rc == 2);
  CHECK_THAT(bad.err, Catch::Matchers::Contains("expected three sizes M,N,K"));
  CHECK(count_lines(bad.err) == 1);
}

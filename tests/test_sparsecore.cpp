// SparseCore (issue 6): the clustered_topk pattern, the gather accounting, the
// acceptance properties of the timing (proportional to the selected tokens with an
// ideal gather; never slower than the block-sparse kernel on block-aligned
// selections beyond its fixed overhead), the functional check of its traces, and
// sweeps (determinism across worker processes, CLI outputs).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "cli_helpers.h"
#include "models/sparsecore/sparsecore_params.h"
#include "sim/config/map_reader.h"
#include "sim/functional/check.h"
#include "sim/report/report.h"
#include "sim/session/session.h"
#include "sim/sweep/sweep_runner.h"
#include "sim/timing/timing_model.h"

#include "error_helpers.h"

using namespace attnsim;
using attnsim_test::error_of;
using namespace attnsim_test;
using Catch::Matchers::Contains;

namespace {

// sparsecore-h100 with some `sparsecore:` / `gpu:` keys replaced ("gpu.launch_overhead" style).
HwSpec sc_hw(const std::map<std::string, std::string>& set = {}) {
  YAML::Node y = YAML::Clone(load_hw_yaml(resolve_hw_path("sparsecore-h100")));
  for (const auto& [path, value] : set) {
    const size_t dot = path.find('.');
    y[path.substr(0, dot)][path.substr(dot + 1)] = value;
  }
  return parse_hw_spec(y, "sparsecore-h100 (test)");
}

Workload workload(const std::string& pattern, int64_t kv_len, int64_t q_heads = 32, int64_t kv_heads = 8,
                  int64_t head_dim = 128) {
  const std::string y = "name: t\nbatch: 1\nq_heads: " + std::to_string(q_heads) + "\nkv_heads: " +
                        std::to_string(kv_heads) + "\nhead_dim: " + std::to_string(head_dim) +
                        "\nphase: prefill\nkv_len: " + std::to_string(kv_len) + "\npattern: " + pattern + "\n";
  return parse_workload(load_yaml_string(y, "test-workload"), "test-workload.yaml");
}

// What `attnsim run --json` holds in its work, timing and sparsecore sections.
nlohmann::ordered_json timed(const HwSpec& hw, const Workload& w, const std::string& kernel) {
  Session ses = prepare_session(hw, w, kernel, false);
  nlohmann::ordered_json r;
  r["work"] = work_json(ses);
  const std::string& unit = ses.kernel->spec().runs_on;
  find_timing_model(unit.empty() ? hw.arch : unit)->simulate(ses, r);
  return r;
}

double latency(const nlohmann::ordered_json& r) { return r["timing"]["latency_s"].get<double>(); }

}  // namespace

TEST_CASE("clustered_topk: aligned runs, shared query groups, expected density", "[sparsecore][patterns]") {
  PatternContext ctx;
  ctx.shape = workload("{name: dense}", 8192).shape;
  ctx.seed = 7;
  for (int64_t c : {1, 8, 128}) {
    const YAML::Node spec = load_yaml_string("{name: clustered_topk, density: 0.05, cluster_tokens: " +
                                                 std::to_string(c) + "}", "p");
    const auto p = make_pattern(spec, ctx, "test");
    double kept = 0;
    std::vector<Interval> a, b;
    for (int64_t q = 0; q < 8192; q += 64) {
      a.clear();
      p->row_intervals(0, 0, q, a);
      for (const Interval& iv : a) {
        CHECK(iv.begin % c == 0);  // runs start aligned
        CHECK((iv.end - iv.begin) % c == 0);
        kept += static_cast<double>(iv.end - iv.begin);
      }
      // Queries of one group of c positions share the selection; heads share it (per_head false).
      b.clear();
      p->row_intervals(0, 5, q - q % c + c - 1, b);
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i) CHECK((a[i].begin == b[i].begin && a[i].end == b[i].end));
    }
    CHECK(kept / (128.0 * 8192) == Approx(0.05).epsilon(0.15));
  }
  // Another seed, another selection; per_head selections differ between heads.
  const YAML::Node s1 = load_yaml_string("{name: clustered_topk, density: 0.05, per_head: true}", "p");
  const auto p1 = make_pattern(s1, ctx, "test");
  CHECK_FALSE(p1->head_invariant());
  std::vector<Interval> h0, h1;
  p1->row_intervals(0, 0, 100, h0);
  p1->row_intervals(0, 1, 100, h1);
  CHECK(h0.size() != h1.size());
  const YAML::Node bad = load_yaml_string("{name: clustered_topk, density: 0}", "p");
  CHECK_THAT(error_of([&] { make_pattern(bad, ctx, "w.yaml"); }), Contains("density: must be at least 2^-16"));
}

TEST_CASE("sparsecore: config attaches through the hardware file", "[sparsecore][config]") {
  const HwSpec h100 = load_hw_spec(resolve_hw_path("h100-sxm"));
  const HwSpec sc = load_hw_spec(resolve_hw_path("sparsecore-h100"));
  CHECK(sc.units == h100.units);  // base: h100-sxm, unchanged
  CHECK(sc.clock_hz == h100.clock_hz);
  CHECK(h100.attachment<SparseCoreParams>("sparsecore") == nullptr);
  const SparseCoreParams* p = sc.attachment<SparseCoreParams>("sparsecore");
  REQUIRE(p != nullptr);
  CHECK(p->instances == 132);
  CHECK(p->gather_bytes_per_s == Approx(64e9));
  CHECK(p->area_m2() == Approx(132 * 0.2e-6));
  const Workload w = workload("{name: clustered_topk, density: 0.1}", 2048, 8, 2);
  CHECK_THAT(error_of([&] { prepare_session(h100, w, "sparsecore_gather"); }),
             Contains("has no 'sparsecore:' section"));
  CHECK_THAT(error_of([] { sc_hw({{"sparsecore.instances", "4"}}); }), Contains("applies to 'placement: near_l2' only"));
  CHECK_THAT(error_of([] { sc_hw({{"sparsecore.gather_bandwidth", "64GHz"}}); }),
             Contains("gather_bandwidth") && Contains("a bandwidth is expected"));
  CHECK(sc_hw({{"sparsecore.placement", "per_cluster"}, {"sparsecore.cluster_units", "4"}})
            .attachment<SparseCoreParams>("sparsecore")->instances == 33);
}

TEST_CASE("sparsecore: gather time of one unit from the request arithmetic", "[sparsecore][timing]") {
  // One unit (32 query positions x 4 heads) on one SM: its engine alone gathers its keys.
  const Workload w = [] {
    Workload x = workload("{name: clustered_topk, density: 0.1, query_group_tokens: 32}", 4096, 4, 1);
    x.shape.q_len = 32;
    return x;
  }();
  PatternContext ctx;
  ctx.shape = w.shape;
  ctx.seed = w.seed;
  const auto pattern = make_pattern(w.pattern, ctx, "t");
  std::vector<Interval> iv;
  pattern->row_intervals(0, 0, 4096 - 32, iv);  // the group's shared selection
  for (double req : {32.0, 512.0}) {
    const HwSpec hw = sc_hw({{"sparsecore.request_bytes", std::to_string(static_cast<int>(req)) + "B"}});
    const SparseCoreParams& sc = *hw.attachment<SparseCoreParams>("sparsecore");
    double tokens = 0, bytes = 0;
    for (const Interval& i : iv) {
      tokens += static_cast<double>(i.end - i.begin);
      const double a = i.begin * 256.0, z = i.end * 256.0;  // d = 128 bf16 rows
      bytes += 2 * (std::ceil(z / req) - std::floor(a / req)) * req;
    }
    bytes += tokens * sc.index_bytes;
    const auto r = timed(hw, w, "sparsecore_gather");
    const auto& j = r["sparsecore"];
    CHECK(j["selected_tokens"].get<double>() == tokens);
    CHECK(j["bypassed_tiles"].get<int64_t>() == 0);
    const double expect_s = std::max(bytes / sc.gather_bytes_per_s, tokens / (sc.index_decode_per_cycle * hw.clock_hz));
    CHECK(j["gather_s"].get<double>() == Approx(expect_s).epsilon(1e-9));
    if (req == 512.0) CHECK(bytes > 2 * 256 * tokens * 1.2);  // scattered rows waste most of a 512 B request
  }
}

TEST_CASE("sparsecore: ideal gather predicts time proportional to the selected tokens", "[sparsecore][timing]") {
  // Infinite gather bandwidth and decode rate, no fixed costs anywhere.
  const HwSpec hw = sc_hw({{"sparsecore.gather_bandwidth", "1e9TB/s"},
                           {"sparsecore.index_decode_per_cycle", "1e12"},
                           {"sparsecore.overlap_fraction", "1"},
                           {"gpu.launch_overhead", "1ps"},
                           {"gpu.cta_launch_cycles", "0"}});
  CliDir dir;
  std::string kernel = slurp(kRepo / "workloads" / "kernels" / "sparsecore_gather.yaml");
  kernel.replace(kernel.find("tile_overhead_cycles: 2000"), 26, "tile_overhead_cycles: 0   ");
  write_text(dir.path / "k.yaml", kernel);
  double tokens[3], time_s[3];
  int i = 0;
  for (double density : {0.125, 0.25, 0.5}) {
    // Selections shared by each unit's 32 positions: gathered tokens = selected tokens.
    const Workload w = workload("{name: clustered_topk, density: " + std::to_string(density) +
                                ", query_group_tokens: 32}", 16384);
    const auto r = timed(hw, w, dir.file("k.yaml"));
    tokens[i] = r["sparsecore"]["selected_tokens"].get<double>();
    CHECK(r["sparsecore"]["gather_s"].get<double>() < 1e-6 * latency(r));
    time_s[i++] = latency(r);
  }
  for (int k = 1; k < 3; ++k) {
    INFO("density step " << k);
    CHECK(time_s[k] / time_s[0] == Approx(tokens[k] / tokens[0]).epsilon(0.05));
  }
}

TEST_CASE("sparsecore: block-aligned selections are never slower than block-sparse beyond the fixed overhead",
          "[sparsecore][timing]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("sparsecore-h100"));
  const double fixed_s = hw.attachment<SparseCoreParams>("sparsecore")->fixed_overhead_s;
  // Without the driver's fallback the gather schedule itself (GQA-packed units, tiles that
  // bypass the engine) is within 1% of the block-sparse kernel: only the unit order differs.
  CliDir dir;
  std::string no_fallback = slurp(kRepo / "workloads" / "kernels" / "sparsecore_gather.yaml");
  no_fallback.erase(no_fallback.find("aligned_fallback:"));
  write_text(dir.path / "k.yaml", no_fallback);
  for (int64_t kv_len : {4096, 16384}) {
    for (double density : {0.05, 0.3, 0.7}) {
      INFO("kv_len " << kv_len << ", density " << density);
      const Workload w = workload("{name: clustered_topk, cluster_tokens: 128, density: " + std::to_string(density) + "}", kv_len);
      const auto sc = timed(hw, w, "sparsecore_gather");
      CHECK(sc["sparsecore"]["bypassed_tiles"] == sc["sparsecore"]["dense_tiles"]);  // nothing to gather
      CHECK(sc["sparsecore"]["host_kernel"] == "fa3_block_sparse");
      const auto own = timed(hw, w, dir.file("k.yaml"));
      CHECK(own["sparsecore"]["host_kernel"] == "sparsecore_gather");
      CHECK(latency(own) <= 1.01 * latency(timed(hw, w, "fa3_block_sparse")) + fixed_s);
      for (const char* bs : {"fa3_block_sparse", "flex"}) {
        INFO(bs);
        CHECK(latency(sc) <= latency(timed(hw, w, bs)) + fixed_s + 1e-12);
      }
    }
  }
}

TEST_CASE("sparsecore: staging buffer limits the overlap", "[sparsecore][timing]") {
  const Workload w = workload("{name: clustered_topk, density: 0.05}", 2048, 8, 2);
  // 128-key K+V tiles of d = 128 bf16: 64 KiB; one SM slot per engine needs 2 to overlap.
  CHECK_THAT(error_of([&] { timed(sc_hw({{"sparsecore.staging_buffer", "32KiB"}}), w, "sparsecore_gather"); }),
             Contains("cannot hold one K+V tile"));
  const auto half = timed(sc_hw({{"sparsecore.staging_buffer", "96KiB"}}), w, "sparsecore_gather");
  CHECK(half["sparsecore"]["overlap_fraction_effective"].get<double>() == Approx(0.9 * 96.0 / 128.0));
}

TEST_CASE("sparsecore: outputs of its traces pass the functional check, and a dropped key fails it",
          "[sparsecore][functional]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("sparsecore-h100"));
  CheckOptions co;
  co.precision = Precision::bf16;
  co.threads = 2;
  for (const std::string pattern : {"{name: clustered_topk, density: 0.05, per_head: true}",
                                    "{name: clustered_topk, density: 0.1, cluster_tokens: 8}",
                                    "{name: topk, k: 24}", "{name: relu}"}) {
    INFO(pattern);
    Session ses = prepare_session(hw, workload(pattern, 512, 4, 2, 64), "sparsecore_gather");
    const CheckResult ok = run_check(*ses.trace, *ses.pattern, *ses.inputs, co);
    CHECK(ok.pass);
    CHECK(ok.rows_checked == 4 * 512);
    // The same trace without the last key of every row must fail.
    const BlockMask& m = ses.trace->mask();
    auto cut = std::make_shared<BlockMask>(m.geometry(), m.mask_batch(), m.mask_heads());
    for (int64_t r = 0; r < m.rows(); ++r) {
      const BlockRow row = m.row(r);
      for (uint32_t i = 0; i + 1 < row.size; ++i) cut->append(row.kv_block[i], row.partial[i]);
      cut->end_row();
    }
    std::vector<WorkUnit> units = ses.trace->units();
    for (WorkUnit& u : units) u.entry_end = cut->row(u.mask_row).size;
    const Trace broken(ses.trace->shape(), ses.trace->tiling(), cut, units, "broken");
    CHECK_FALSE(run_check(broken, *ses.pattern, *ses.inputs, co).pass);
  }
}

TEST_CASE("sweep: rows do not depend on the number of worker processes", "[sparsecore][sweep]") {
  const SweepSpec spec = load_sweep((fs::path(ATTNSIM_TEST_DIR) / "data" / "sweep-small.yaml").string());
  REQUIRE(spec.points.size() == 6);
  CHECK(spec.parameters == std::vector<std::string>{"workload.pattern.density", "hw.sparsecore.gather_bandwidth"});
  CHECK(describe_point(spec, 1) == "workload.pattern.density=0.02, hw.sparsecore.gather_bandwidth=64GB/s");
  std::vector<size_t> all = {0, 1, 2, 3, 4, 5};
  const std::string one = encode_results(run_points(spec, all, 1));
  const std::string three = encode_results(run_points(spec, all, 3));
  CHECK(one == three);
  const SweepRows rows = rows_of(decode_results(one));
  REQUIRE(rows.size() == 6);
  // More gather bandwidth never makes a point slower; the speedup is the best baseline over it.
  CHECK(rows[0]["latency_us"].get<double>() >= rows[1]["latency_us"].get<double>());
  CHECK(rows[1]["latency_us"].get<double>() >= rows[2]["latency_us"].get<double>());
  for (const auto& r : rows) {
    const double best = std::min(r["flex_us"].get<double>(), r["fa3_block_sparse_us"].get<double>());
    CHECK(r["best_baseline_us"].get<double>() == best);
    CHECK(r["speedup"].get<double>() == Approx(best / r["latency_us"].get<double>()));
  }
  const std::string csv = sweep_csv(rows);
  CHECK(csv.rfind("point,workload.pattern.density,hw.sparsecore.gather_bandwidth,kernel,", 0) == 0);
  CHECK(count_lines(csv) == 7);
}

TEST_CASE("sweep: the CLI writes CSV, JSON and the plot, identical for any -j", "[sparsecore][sweep][cli]") {
  CliDir dir;
  const std::string sweep = (fs::path(ATTNSIM_TEST_DIR) / "data" / "sweep-small.yaml").string();
  const CliResult a = run_cli({"sweep", sweep, "-o", dir.file("a"), "-j", "1", "-q"}, dir.path);
  INFO(a.err);
  REQUIRE(a.rc == 0);
  const CliResult b = run_cli({"sweep", sweep, "-o", dir.file("b"), "-j", "2", "--no-plot", "-q"}, dir.path);
  REQUIRE(b.rc == 0);
  CHECK(slurp(dir.path / "a.csv") == slurp(dir.path / "b.csv"));
  CHECK(slurp(dir.path / "a.json") == slurp(dir.path / "b.json"));
  CHECK(count_lines(slurp(dir.path / "a.csv")) == 7);
  if (std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
    CHECK(fs::file_size(dir.path / "a.png") > 1000);
  }
  CHECK_FALSE(fs::exists(dir.path / "b.png"));
  // The run budget applies to every point, as in `attnsim run`: over it, the sweep stops with the
  // point and the estimate; a bad value names its flag.
  const CliResult tight = run_cli({"sweep", sweep, "-o", dir.file("c"), "-j", "1", "--no-plot", "-q", "--max-time", "1us"}, dir.path);
  CHECK(tight.rc == 2);
  CHECK_THAT(tight.err, Contains("point 0") && Contains("time budget") && Contains("--max-time"));
  CHECK_FALSE(fs::exists(dir.path / "c.csv"));
  const CliResult typo = run_cli({"sweep", sweep, "-o", dir.file("d"), "--max-memory", "2 parsecs", "-q"}, dir.path);
  CHECK(typo.rc == 2);
  CHECK_THAT(typo.err, Contains("--max-memory"));
}

// Robustness (docs/robustness.md): the fuzz corpus and every past fuzz finding replayed
// through the fuzz targets, byte-identical results across runs and thread counts, and
// the up-front resource guards (estimates against the real sizes, refusals, flags).
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/session/session.h"
#include "tests/cli_helpers.h"

using namespace attnsim;
using namespace attnsim_test;
using Catch::Matchers::Contains;

namespace {

Workload workload(const std::string& yaml) { return parse_workload(load_yaml_string(yaml, "w.yaml"), "w.yaml"); }

std::string shape_yaml(int64_t heads, int64_t kv_len, const std::string& pattern) {
  return "name: t\nbatch: 1\nq_heads: " + std::to_string(heads) + "\nhead_dim: 64\nphase: prefill\nkv_len: " +
         std::to_string(kv_len) + "\npattern: " + pattern + "\n";
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("fuzz: the seed corpus and every past finding pass the fuzz targets", "[robustness][fuzz]") {
  for (const std::string target : {"config", "workload", "mask"}) {
    const fuzz::Target run = fuzz::target_named(target);
    const std::vector<fs::path> seeds = files_under(kRepo / "fuzz" / "corpus" / target);
    INFO("target " << target);
    CHECK(seeds.size() >= 5);  // a corpus that vanished must not pass silently
    std::vector<fs::path> inputs = seeds;
    for (const fs::path& p : files_under(kRepo / "fuzz" / "regressions" / target)) inputs.push_back(p);
    for (const fs::path& p : inputs) {
      INFO("input " << p.string());
      const std::string bytes = slurp(p);
      CHECK(fuzz::check_one(run, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == "");
    }
  }
}

TEST_CASE("fuzz: check_one reports what a target must never do", "[robustness][fuzz]") {
  const uint8_t none = 0;
  CHECK(fuzz::check_one([](const uint8_t*, size_t) {}, &none, 0) == "");
  CHECK(fuzz::check_one([](const uint8_t*, size_t) { throw Error("one clean line"); }, &none, 0) == "");
  CHECK_THAT(fuzz::check_one([](const uint8_t*, size_t) { throw std::out_of_range("vector"); }, &none, 0),
             Contains("other than attnsim::Error escaped: vector"));
  CHECK_THAT(fuzz::check_one([](const uint8_t*, size_t) { throw Error(""); }, &none, 0), Contains("empty message"));
  CHECK_THROWS(fuzz::target_named("nope"));
  // Messages are one line even when the input smuggles a line break into a key or value.
  const std::string yaml = "name: t\nbatch: \"1\\n2\"\n";
  CHECK(fuzz::check_one(fuzz::workload_input, reinterpret_cast<const uint8_t*>(yaml.data()), yaml.size()) == "");
  CHECK_THROWS_WITH(workload(yaml), Contains("expected an integer, got '1\\n2'"));
}

TEST_CASE("determinism: same inputs and seed give byte-identical JSON across runs and thread counts",
          "[robustness]") {
  CliDir dir;
  // topk scores Q.K^T on worker threads and the check spreads rows over threads: the two
  // places where the thread count could leak into results.
  const fs::path wl = dir.path / "det.yaml";
  write_text(wl, "name: det\nbatch: 2\nq_heads: 4\nkv_heads: 2\nhead_dim: 32\nphase: prefill\nkv_len: 700\n"
                 "seed: 7\npattern: {name: topk, k: 48}\n");
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", "--hw", "h100-sxm", "-w", wl.string(), "--json", "-q",
                                     "--sample-rows", "40"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(args, dir.path);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    return r.out;
  };
  const std::string reference = run({"--threads", "1"});
  CHECK(reference.find("\"timing\"") != std::string::npos);
  CHECK(reference.find("\"check\"") != std::string::npos);
  CHECK(run({"--threads", "1"}) == reference);
  CHECK(run({"--threads", "2"}) == reference);
  CHECK(run({"--threads", "5"}) == reference);
  CHECK(run({}) == reference);  // all cores
  CHECK(run({"--threads", "3", "--full-check"}) == run({"--threads", "1", "--full-check"}));
  // The seed reaches the result: equality above is not vacuous.
  CHECK(run({"--threads", "1", "--seed", "8"}) != reference);
  // `check` with both precisions, the same way.
  auto check = [&](const std::string& threads) {
    const CliResult r = run_cli({"check", "--hw", "h100-sxm", "-w", wl.string(), "--json", "-q", "--threads", threads},
                                dir.path);
    REQUIRE(r.rc == 0);
    return r.out;
  };
  CHECK(check("1") == check("4"));
}

TEST_CASE("budget: the mask estimate is the exact bound when it fits, and sampled close to the truth when not",
          "[robustness]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  for (const char* pattern : {"{name: causal}", "{name: sliding_window, window_tokens: 2000}",
                              "{name: random_block, density: 0.2, block_tokens: 256}", "{name: dense}"}) {
    INFO(pattern);
    const Session ses = prepare_session(hw, workload(shape_yaml(4, 20000, pattern)), "flex");
    const BlockMask& mask = *ses.mask;
    const BlockGeometry& g = mask.geometry();
    const double rows = static_cast<double>(mask.rows());
    const KernelSpec& k = ses.kernel->spec();  // flex: block-sparse, no cover
    const ResourceEstimate bound = estimate_mask_and_trace(*ses.pattern, g, k, ses.workload.shape, ResourceBudget{});
    CHECK(bound.mask_blocks == rows * static_cast<double>(g.kv_blocks()));
    ResourceBudget tiny;
    tiny.memory_bytes = 1;  // the bound is over budget: rows are sampled
    const ResourceEstimate sampled = estimate_mask_and_trace(*ses.pattern, g, k, ses.workload.shape, tiny);
    CHECK(sampled.mask_blocks == Approx(static_cast<double>(mask.entries())).epsilon(0.15));
    CHECK(sampled.work_units == Approx(static_cast<double>(ses.trace->units().size())).epsilon(0.01));
    double visits = 0;
    for (const WorkUnit& u : ses.trace->units()) visits += u.entry_end - u.entry_begin;
    CHECK(sampled.block_visits == Approx(visits).epsilon(0.15));
    CHECK(sampled.memory_bytes < bound.memory_bytes * 1.0001);
  }
}

TEST_CASE("budget: runs over the memory or time budget are refused up front with the estimate", "[robustness]") {
  SessionOptions so;
  so.hw = "h100-sxm";
  so.progress = false;
  CliDir dir;
  so.workload = (dir.path / "w.yaml").string();
  // Causal at 4M tokens: ~1.7e9 mask blocks of host memory, built in seconds if allowed.
  write_text(so.workload, shape_yaml(1, 4194304, "{name: causal}"));
  so.budget.memory_bytes = 1e9;
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(prepare_session(so), Contains("w.yaml: this run would need ~") && Contains("of host memory") &&
                                             Contains("over the 1 GB budget") && Contains("--max-memory"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));  // refused, not attempted
  // A time budget refuses what fits in memory.
  so.budget.memory_bytes = 0;
  write_text(so.workload, shape_yaml(8, 65536, "{name: causal}"));
  so.budget.time_s = 1e-3;
  CHECK_THROWS_WITH(prepare_session(so), Contains("this run would need ~") && Contains("over the 1 ms time budget") &&
                                             Contains("--max-time"));
  so.budget.time_s = 600;
  CHECK_NOTHROW(prepare_session(so));
  // A data-dependent pattern is refused before it computes any score.
  write_text(so.workload, shape_yaml(32, 131072, "{name: relu}"));
  CHECK_THROWS_WITH(prepare_session(so), Contains("the data-dependent pattern would need ~"));
  // Without explicit limits the default memory budget applies, and it is never more than 16 GiB.
  CHECK(ResourceBudget{}.memory_limit_bytes() == default_memory_budget_bytes());
  CHECK(default_memory_budget_bytes() > 0);
  CHECK(default_memory_budget_bytes() <= 16.0 * (1ull << 30));
}

TEST_CASE("budget: --max-memory and --max-time raise or lower the limits from the command line", "[robustness]") {
  CliDir dir;
  const fs::path wl = dir.path / "w.yaml";
  write_text(wl, shape_yaml(8, 65536, "{name: causal}"));
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"run", "--hw", "h100-sxm", "-w", wl.string(), "-q", "--no-check"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args, dir.path);
  };
  const CliResult small = run({"--max-memory", "1MB"});
  CHECK(small.rc == 2);
  CHECK_THAT(small.err, Contains("over the 1 MB budget"));
  CHECK(run({"--max-memory", "64GiB", "--max-time", "1d"}).rc == 2);  // 'd' is not a time unit
  CHECK(run({"--max-memory", "64GiB", "--max-time", "1h"}).rc == 0);
  const CliResult slow = run({"--max-time", "1us"});
  CHECK(slow.rc == 2);
  CHECK_THAT(slow.err, Contains("over the 1 us time budget"));
  CHECK(count_lines(slow.err) == 1);
  // An output path that cannot be written is refused before the run, not after it.
  const CliResult out = run({"-o", (dir.path / "missing" / "r.json").string(), "--max-time", "1us"});
  CHECK_THAT(out.err, Contains("r.json: cannot write (does the directory exist?)"));
}

// `attnsim run --trace` and `--detail`: the Chrome/Perfetto Trace Event Format export is
// validated event by event (required fields, one properly nested track per SM slot with
// monotonic timestamps, one counter per memory level), stays within its size bound on a
// 128k run, leaves the result JSON untouched, and is byte-identical across runs.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/report/timeline.h"
#include "tests/cli_helpers.h"

using namespace attnsim_test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

struct TraceCheck {
  int64_t unit_slices = 0;   // X events on lane tracks
  int64_t units = 0;         // units they cover (sum of args.units)
  std::set<std::string> counters;
  double last_end_us = 0;
};

// Checks every rule of the Trace Event Format that Perfetto's JSON importer relies on.
TraceCheck validate_trace(const json& doc) {
  REQUIRE(doc.is_object());
  REQUIRE(doc.contains("traceEvents"));
  REQUIRE(doc["traceEvents"].is_array());
  TraceCheck c;
  std::set<std::pair<int64_t, int64_t>> named;                 // (pid, tid) with a thread_name
  std::map<std::pair<int64_t, int64_t>, double> track_end_us;  // last slice end per track
  std::map<std::pair<int64_t, int64_t>, double> track_ts_us;
  std::map<std::string, double> counter_ts_us;
  for (const json& e : doc["traceEvents"]) {
    INFO(e.dump());
    REQUIRE(e.contains("name"));
    REQUIRE(e["name"].is_string());
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("pid"));
    REQUIRE(e.contains("tid"));
    REQUIRE(e["pid"].is_number_integer());
    REQUIRE(e["tid"].is_number_integer());
    const std::string ph = e["ph"];
    const auto track = std::make_pair(e["pid"].get<int64_t>(), e["tid"].get<int64_t>());
    if (ph == "M") {
      REQUIRE(e["args"].is_object());
      if (e["name"] == "thread_name") named.insert(track);
      continue;
    }
    REQUIRE(e["ts"].is_number());
    const double ts = e["ts"].get<double>();
    CHECK(ts >= 0);
    if (ph == "X") {
      REQUIRE(e["dur"].is_number());
      const double dur = e["dur"].get<double>();
      CHECK(dur >= 0);
      CHECK(named.count(track) == 1);  // metadata comes first, so every track has its name
      if (track_ts_us.count(track)) {
        CHECK(ts >= track_ts_us[track]);                // monotonic per track
        CHECK(ts >= track_end_us[track] - 1e-6);        // and no overlap: slices nest properly
      }
      track_ts_us[track] = ts;
      track_end_us[track] = ts + dur;
      if (track.first == 1) {
        ++c.unit_slices;
        c.units += e["args"].value("units", int64_t{0});
        c.last_end_us = std::max(c.last_end_us, ts + dur);
      }
    } else if (ph == "C") {
      REQUIRE(e["args"].is_object());
      REQUIRE(!e["args"].empty());
      for (const auto& [k, v] : e["args"].items()) CHECK(v.is_number());
      const std::string name = e["name"];
      if (counter_ts_us.count(name)) CHECK(ts > counter_ts_us[name]);
      counter_ts_us[name] = ts;
      c.counters.insert(name);
    } else {
      FAIL("unexpected phase " << ph);
    }
  }
  return c;
}

bool has_counter_for(const TraceCheck& c, const std::string& level) {
  for (const std::string& n : c.counters) {
    if (n.rfind(level + " bandwidth", 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("trace: a GPU run's trace is valid Trace Event Format with a slice per CTA", "[trace-export]") {
  CliDir dir;
  write_text(dir.path / "w.yaml", kSmallCausalWorkload);
  const std::vector<std::string> base = {"run", "--hw", "h100-sxm", "-w", dir.file("w.yaml"), "--json", "-q", "--no-check"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  REQUIRE(run_cli(with({"-o", dir.file("plain.json")}), dir.path).rc == 0);
  const CliResult r = run_cli(with({"--trace", dir.file("t.json"), "-o", dir.file("r.json")}), dir.path);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  // --trace alone leaves the result byte-identical.
  CHECK(slurp(dir.path / "r.json") == slurp(dir.path / "plain.json"));
  const json result = json::parse(slurp(dir.path / "r.json"));
  CHECK_FALSE(result.contains("timeline"));
  const json trace = json::parse(slurp(dir.path / "t.json"));
  const TraceCheck c = validate_trace(trace);
  // One slice per CTA, none after the kernel ends, one counter track per memory level.
  CHECK(c.unit_slices == result["timing"]["ctas"].get<int64_t>());
  CHECK(c.units == result["timing"]["ctas"].get<int64_t>());
  CHECK(c.last_end_us <= result["timing"]["kernel_s"].get<double>() * 1e6 + 1e-3);
  CHECK(c.last_end_us >= 0.99 * result["timing"]["kernel_s"].get<double>() * 1e6);
  for (const auto& [level, t] : result["traffic"].items()) CHECK(has_counter_for(c, level));
  // Same inputs, same bytes.
  REQUIRE(run_cli(with({"--trace", dir.file("t2.json"), "-o", dir.file("r2.json")}), dir.path).rc == 0);
  CHECK(slurp(dir.path / "t2.json") == slurp(dir.path / "t.json"));
  // --detail adds the timeline (one record per CTA here) and the mask grid.
  REQUIRE(run_cli(with({"--detail", "-o", dir.file("d.json")}), dir.path).rc == 0);
  const json d = json::parse(slurp(dir.path / "d.json"));
  REQUIRE(d.contains("timeline"));
  CHECK(d["timeline"]["units_per_record"] == 1);
  CHECK(d["timeline"]["records"].size() == result["timing"]["ctas"].get<size_t>());
  CHECK(d["timeline"]["lanes"] == 132);
  // Causal 4096 / 128-token tiles: 32 x 32 blocks; the cell right of the diagonal is skipped,
  // the diagonal partial, below it full.
  const json& g = d["mask_grid"];
  REQUIRE(g["computed_percent"].size() == static_cast<size_t>(g["q_blocks"].get<int64_t>() / g["q_blocks_per_cell"].get<int64_t>()));
  CHECK(g["computed_percent"][5][6] == 0);
  CHECK(g["partial_percent"][5][5] == 100);
  CHECK(g["computed_percent"][5][4] == 100);
  CHECK(g["partial_percent"][5][4] == 0);
}

TEST_CASE("trace: a TPU run's trace has one busy slice per TensorCore and its levels' counters", "[trace-export]") {
  CliDir dir;
  write_text(dir.path / "w.yaml", kSmallCausalWorkload);
  const CliResult r = run_cli({"run", "--hw", "tpu-v5p", "-w", dir.file("w.yaml"), "--json", "-q", "--no-check", "--detail",
                               "--trace", dir.file("t.json"), "-o", dir.file("r.json")},
                              dir.path);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const json result = json::parse(slurp(dir.path / "r.json"));
  const TraceCheck c = validate_trace(json::parse(slurp(dir.path / "t.json")));
  CHECK(c.unit_slices == result["timing"]["tensorcores"].get<int64_t>());
  CHECK(result["timeline"]["per_unit_times"] == false);
  for (const auto& [level, t] : result["traffic"].items()) CHECK(has_counter_for(c, level));
}

TEST_CASE("trace: a 128k run with 131k CTAs is aggregated within the size bound and says so", "[trace-export]") {
  CliDir dir;
  // 4 x 32 heads x 1024 query blocks = 131,072 CTAs; a 1k window keeps the simulation short.
  write_text(dir.path / "w.yaml",
             "name: w128k\nbatch: 4\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\nphase: prefill\nkv_len: 131072\n"
             "pattern: {name: sliding_window, window_tokens: 1024}\n");
  const CliResult r = run_cli({"run", "--hw", "h100-sxm", "-w", dir.file("w.yaml"), "--json", "--no-check", "--trace",
                               dir.file("t.json"), "-o", dir.file("r.json")},
                              dir.path);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK_THAT(r.err, Contains("trace aggregated: up to 2 consecutive units"));
  const std::string text = slurp(dir.path / "t.json");
  CHECK(text.size() < 12'000'000);
  const json trace = json::parse(text);
  const TraceCheck c = validate_trace(trace);
  const json result = json::parse(slurp(dir.path / "r.json"));
  const int64_t ctas = result["timing"]["ctas"];
  REQUIRE(ctas == 131072);
  CHECK(c.units == ctas);  // aggregation loses no unit
  // Merging never crosses a track, so a track's remainder can add one slice each.
  CHECK(c.unit_slices <= attnsim::kMaxTimelineRecords + 132 * 4);
  CHECK(c.unit_slices >= ctas / 2);
  CHECK_THAT(trace["otherData"]["timeline"].get<std::string>(), Contains("aggregated"));
  bool labelled = false;
  for (const json& e : trace["traceEvents"]) {
    if (e["name"] == "process_name" && e["pid"] == 1) labelled = e["args"]["name"].get<std::string>().find("aggregated") != std::string::npos;
  }
  CHECK(labelled);
}

TEST_CASE("trace: timeline records on one track never overlap and merge in order", "[trace-export]") {
  using attnsim::LaneRecord;
  // Lane 0 has two CTAs resident at once (two slots); lane 1 runs three in a row.
  std::vector<LaneRecord> r = {{0, 0, 0.0, 2e-6}, {1, 0, 0.0, 1e-6}, {2, 0, 1e-6, 3e-6},
                               {3, 1, 0.0, 1e-6}, {4, 1, 1e-6, 2e-6}, {5, 1, 2e-6, 4e-6}};
  const json t = attnsim::timeline_json(r, "SM", 2);
  CHECK(t["slots_per_lane"] == 2);
  const json& rec = t["records"];
  REQUIRE(rec.size() == 6);
  CHECK(rec[0] == json({0, 0, 0, 0.0, 2000.0, 1, 2000.0}));  // first (earliest, lowest unit) in slot 0
  CHECK(rec[1] == json({1, 0, 1, 0.0, 1000.0, 1, 1000.0}));
  CHECK(rec[2] == json({2, 0, 1, 1000.0, 3000.0, 1, 2000.0}));  // slot 1 frees at 1 us, slot 0 only at 2 us
  // At most 2 records: merged 3 at a time, never across the (lane, slot) tracks.
  const json m = attnsim::timeline_json(r, "SM", 2, 2);
  CHECK(m["units_per_record"] == 3);
  REQUIRE(m["records"].size() == 3);
  CHECK(m["records"][0][5] == 1);
  CHECK(m["records"][1][5] == 2);
  CHECK(m["records"][1][6] == 3000.0);  // busy time, not the span
  CHECK(m["records"][2] == json({3, 1, 0, 0.0, 4000.0, 3, 4000.0}));
}

TEST_CASE("trace: two CTAs resident per SM (fa2) get two tracks per SM that never overlap", "[trace-export]") {
  CliDir dir;
  // 2,048 CTAs: enough for every SM to hold two at once (the small layer has fewer CTAs than SMs).
  const std::string wl = (kRepo / "workloads" / "llama3-8b-prefill-8k-causal.yaml").string();
  const CliResult r = run_cli({"run", "--hw", "h100-sxm", "-w", wl, "--kernel", "fa2", "--json", "-q",
                               "--no-check", "--detail", "--trace", dir.file("t.json"), "-o", dir.file("r.json")},
                              dir.path);
  INFO(r.err);
  REQUIRE(r.rc == 0);
  const json result = json::parse(slurp(dir.path / "r.json"));
  REQUIRE(result["timing"]["cta_slots"] == 264);  // FA2 on H100: 2 CTAs per SM
  CHECK(result["timeline"]["slots_per_lane"] == 2);
  const json trace = json::parse(slurp(dir.path / "t.json"));
  const TraceCheck c = validate_trace(trace);  // no overlap on any (SM, slot) track
  CHECK(c.units == result["timing"]["ctas"].get<int64_t>());
  bool slot_named = false;
  for (const json& e : trace["traceEvents"]) {
    if (e["name"] == "thread_name" && e["args"]["name"] == "SM 7 slot 1") slot_named = true;
  }
  CHECK(slot_named);
}

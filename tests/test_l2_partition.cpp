// The partitioned LRU L2 (models/gpu/l2_stack.h, l2_replay.h) on hand-computable cases,
// its config checks, and the parallel runner validate and sweep share.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "cli_helpers.h"
#include "models/gpu/gpu_params.h"
#include "models/gpu/gpu_sim.h"
#include "models/gpu/l2_replay.h"
#include "models/gpu/l2_stack.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/core/forked_map.h"
#include "sim/core/hash.h"
#include "sim/core/paths.h"
#include "sim/session/session.h"

#include "error_helpers.h"

using namespace attnsim;
using namespace attnsim_test;
using attnsim_test::error_of;
using Catch::Matchers::Contains;

namespace {

// Cyclic reads of `keys` 1-byte keys, one per 1 s bucket; the miss share of the last round.
double cyclic_miss(int64_t keys, L2StackParams p) {
  L2StackDistance l2(keys, p, 1.0, 10.0 * keys);
  double t = 0, last_round = 0;
  for (int round = 0; round < 3; ++round) {
    last_round = 0;
    for (int64_t k = 0; k < keys; ++k) last_round += l2.access(k, 1, t++);
  }
  return last_round / static_cast<double>(keys);
}

// Replays chunks of one K/V tile each: (time, SM, block); tiles of 2 bytes, one per partition half.
L2ReplayResult replay_reads(const std::vector<std::tuple<double, uint16_t, uint32_t>>& reads, int partitions,
                            L2StackParams p, std::vector<uint32_t>& blocks) {
  blocks.clear();
  for (const auto& r : reads) blocks.push_back(std::get<2>(r));
  L2StackReplay rec(1, 16, 1.0);
  for (size_t i = 0; i < reads.size(); ++i) {
    const auto& [t, sm, block] = reads[i];
    rec.chunk(static_cast<int64_t>(i), {t, t + 0.5, &blocks[i], 0, 1, sm, false});
  }
  return rec.replay({partitions, 1, p}, std::vector<double>(16, 2.0));  // SM s on partition s mod P
}

}  // namespace

TEST_CASE("LRU stack distance: hits below the ramp, misses above, a linear share inside", "[l2]") {
  // Capacity 10 bytes, ramp 4 wide (8..12). A cyclic re-read of n keys has distance n - 1.
  const L2StackParams p{10, 4};
  CHECK(cyclic_miss(6, p) == Approx(0.0));    // distance 5 < 8
  CHECK(cyclic_miss(11, p) == Approx(0.5));   // distance 10: half way up the ramp
  CHECK(cyclic_miss(14, p) == Approx(1.0));   // distance 13 > 12
  // Hits count towards the distance (unlike a fill counter): a hot working set can thrash.
  L2StackDistance l2(3, p, 1.0, 100);
  CHECK(l2.access(0, 1, 0) == Approx(1.0));   // first read: compulsory
  CHECK(l2.access(0, 1, 0.5) == Approx(0.0)); // again in the same bucket: resident
  l2.fill(9, 1);                              // 9 bytes touched once
  CHECK(l2.access(0, 1, 2) == Approx(0.25));  // distance 9: (9 - 8) / 4
  l2.fill(11, 3);
  CHECK(l2.resident_fraction(2.5) == Approx(0.25));  // 11 bytes after it: 0.75 of it gone
}

TEST_CASE("LRU stack distance over thousands of buckets equals a brute-force count", "[l2]") {
  // Distances summed through blocks and super-blocks (16 and 256 buckets) against a direct
  // count of the distinct bytes since each key's previous access; keys of 1-4 bytes re-read
  // at irregular gaps, so sums start and end mid-block and cross many super-blocks.
  const L2StackParams p{1000, 800};  // misses from 600 to 1400 bytes of distance
  const int64_t keys = 700;
  L2StackDistance l2(keys, p, 1.0, 20000);
  std::vector<double> last_t(keys, -1), bytes(keys);
  for (int64_t k = 0; k < keys; ++k) bytes[static_cast<size_t>(k)] = 1 + k % 4;
  int checked = 0, hits = 0, partial = 0, misses = 0;
  for (int64_t step = 0; step < 15000; ++step) {
    const int64_t key = static_cast<int64_t>(mix64(static_cast<uint64_t>(step)) % keys);  // gaps of 1 to thousands
    const double t = static_cast<double>(step);
    const size_t k = static_cast<size_t>(key);
    double expect = 1.0;
    if (last_t[k] >= 0) {
      double distance = 0;  // distinct bytes touched after the key's last access
      for (int64_t o = 0; o < keys; ++o) {
        if (o != key && last_t[static_cast<size_t>(o)] > last_t[k]) distance += bytes[static_cast<size_t>(o)];
      }
      expect = std::clamp((distance - 600) / 800, 0.0, 1.0);
      ++checked;
    }
    REQUIRE(l2.access(key, bytes[k], t) == Approx(expect).margin(1e-12));
    if (last_t[k] >= 0) (expect == 0 ? hits : expect == 1 ? misses : partial) += 1;
    last_t[k] = t;
  }
  CHECK(checked > 14000);
  CHECK(hits > 1000);   // the distances span the ramp: hits, partial misses and misses
  CHECK(partial > 1000);
  CHECK(misses > 1000);
}

TEST_CASE("L2 partitions: a far SM's read is served by the home partition, not DRAM", "[l2]") {
  // Two partitions of 8 bytes (sharp LRU); SM 0 is in partition 0, SM 1 in partition 1.
  // Each 2-byte tile has one byte homed in each partition.
  const L2StackParams p{8, 0};
  std::vector<uint32_t> blocks;
  // SM 0 reads tile 0, then SM 1 reads it: its near partition has never seen the byte homed
  // in partition 0 but fetches it from there; the byte homed in partition 1 was installed
  // there by SM 0's fetch. DRAM sees the tile once.
  L2ReplayResult r = replay_reads({{0, 0, 0}, {2, 1, 0}}, 2, p, blocks);
  CHECK(r.miss_bytes[0] == Approx(2.0));
  CHECK(r.miss_bytes[1] == Approx(0.0));
  // SM 1 then reads five other tiles: 10 bytes through partition 1, their 5 bytes homed in
  // partition 0 forwarded there. Tile 0 read again by SM 1: its byte homed in partition 1 is
  // 10 bytes deep (gone), its byte homed in partition 0 only 5 deep there (kept): 1 byte from DRAM.
  r = replay_reads({{0, 0, 0}, {1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {4, 1, 4}, {5, 1, 5}, {6, 1, 0}}, 2, p, blocks);
  CHECK(r.miss_bytes[6] == Approx(1.0));
  CHECK(r.total_miss_bytes == Approx(13.0));
  // One partition of the same size: tile 0 is 10 bytes deep, all of it misses.
  r = replay_reads({{0, 0, 0}, {1, 1, 1}, {2, 1, 2}, {3, 1, 3}, {4, 1, 4}, {5, 1, 5}, {6, 1, 0}}, 1, p, blocks);
  CHECK(r.miss_bytes[6] == Approx(2.0));
}

TEST_CASE("L2 replay on a sample of tiles estimates the full replay's misses", "[l2]") {
  // 10000 one-tile chunks cycling over 2000 tiles of 2 bytes read by one SM; the cyclic
  // distance (3998 bytes) sits half way up a ramp from 0 to 8000 bytes.
  constexpr uint32_t kTiles = 2000, kReads = 10000;
  std::vector<uint32_t> blocks(kReads);
  for (uint32_t i = 0; i < kReads; ++i) blocks[i] = i % kTiles;
  auto run = [&](double rate) {
    L2StackReplay rec(1, kTiles, rate);
    for (uint32_t i = 0; i < kReads; ++i) rec.chunk(i, {static_cast<double>(i), i + 0.5, &blocks[i], 0, 1, 0, false});
    return rec.replay({1, 1, L2StackParams{4000, 8000}}, std::vector<double>(kTiles, 2.0));
  };
  const L2ReplayResult full = run(1.0), half = run(0.5);
  CHECK(full.total_miss_bytes == Approx(2.0 * kTiles + 2.0 * (kReads - kTiles) * 3998 / 8000));
  CHECK(half.total_miss_bytes == Approx(full.total_miss_bytes).epsilon(0.05));
  CHECK(half.total_tiles == Approx(kReads).epsilon(0.05));
  CHECK(half.ids.size() == Approx(kReads / 2).epsilon(0.05));  // only chunks with a sampled tile are kept
  CHECK(full.find(1234) == 1234);
  CHECK(half.find(half.ids[7]) == 7);
}

TEST_CASE("L2 partition keys: all four or none, and a ramp no wider than twice the capacity", "[l2][config]") {
  const std::string path = resolve_hw_path("h100-sxm");
  YAML::Node y = load_yaml_file(path);
  y["gpu"].remove("l2_partition_ramp");
  CHECK_THAT(error_of([&] { parse_hw_spec(y, "h.yaml"); }),
             Contains("l2_partition_ramp") && Contains("takes all four of l2_partitions, l2_partition_sm_run,"));
  YAML::Node w = load_yaml_file(path);
  w["gpu"]["l2_partition_ramp"] = "60MB";  // over twice the 25 MB capacity
  CHECK_THAT(error_of([&] { parse_hw_spec(w, "h.yaml"); }), Contains("must be at most twice l2_partition_capacity"));
  YAML::Node z = load_yaml_file(path);
  z["gpu"]["l2_partitions"] = 0;
  CHECK_THAT(error_of([&] { parse_hw_spec(z, "h.yaml"); }), Contains("l2_partitions"));
  YAML::Node r = load_yaml_file(path);
  r["gpu"]["l2_partition_sm_run"] = 500;  // more than the SMs
  CHECK_THAT(error_of([&] { parse_hw_spec(r, "h.yaml"); }), Contains("l2_partition_sm_run"));
}

TEST_CASE("H100 FA2 prefill at 16k: the partitioned L2 re-reads K/V, FA3 does not, runs are repeatable", "[l2][gpu]") {
  // The Nsight Compute probes (validation/h100/data/probe): FA2 causal reads 2.1-2.3x its
  // compulsory 201 MB, cuDNN's FA3 reads them once. The model must keep that contrast.
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  const Workload w = parse_workload(load_yaml_string("name: t\nbatch: 1\nq_heads: 16\nhead_dim: 128\nphase: prefill\n"
                                                     "q_len: 16384\nkv_len: 16384\npattern: {name: causal}\n", "t"), "t");
  auto dram_read = [&](const std::string& kernel) {
    Session ses = prepare_session(hw, w, kernel);
    const GpuSimResult r = simulate_gpu(*ses.trace, ses.hw, ses.kernel->spec());
    return r.levels.back().read_bytes;
  };
  const double compulsory = 16.0 * 16384 * 128 * 2 * 3;  // K, V and Q
  const double fa2 = dram_read("fa2"), fa3 = dram_read("fa3");
  CHECK(fa2 / compulsory > 1.8);
  CHECK(fa2 / compulsory < 2.6);
  CHECK(fa3 / compulsory == Approx(1.0).epsilon(0.03));
  CHECK(dram_read("fa2") == fa2);  // byte-identical on a second run
}

TEST_CASE("FA2's resident spills hold L2 space: without them the same kernel reads less", "[l2][gpu]") {
  // The spilled lines of the resident CTAs take their share of each partition (gpu-model.md), so
  // at 16k causal, on the partition's edge, FA2 re-reads more K/V with its spills than without.
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  const Workload w = parse_workload(load_yaml_string("name: t\nbatch: 1\nq_heads: 16\nhead_dim: 128\nphase: prefill\n"
                                                     "q_len: 16384\nkv_len: 16384\npattern: {name: causal}\n", "t"), "t");
  Session ses = prepare_session(hw, w, "fa2");
  KernelSpec with = ses.kernel->spec(), without = with, area_only = with;
  REQUIRE(with.spill_bytes_per_cta > 0);
  REQUIRE(with.spill_area_bytes_per_cta > with.spill_bytes_per_cta);  // measured stack frames, not the write-back
  without.spill_bytes_per_cta = 0;
  without.spill_area_bytes_per_cta = 0;
  area_only.spill_bytes_per_cta = 0;
  const GpuSimResult a = simulate_gpu(*ses.trace, ses.hw, with), b = simulate_gpu(*ses.trace, ses.hw, without);
  const GpuSimResult c = simulate_gpu(*ses.trace, ses.hw, area_only);
  // Reads: K/V misses only (the spills' write-back is a write). Held space: ~3.5 MB of 26 per partition.
  CHECK(a.levels.back().read_bytes > 1.05 * b.levels.back().read_bytes);
  CHECK(a.levels.back().write_bytes > b.levels.back().write_bytes);
  // The held area alone makes most of the extra reads (the written-back lines also take L2 room
  // after their CTA ends, a few percent more); the write-back is what adds the writes.
  CHECK(c.levels.back().read_bytes > 1.05 * b.levels.back().read_bytes);
  CHECK(c.levels.back().read_bytes < a.levels.back().read_bytes);
  CHECK(c.levels.back().write_bytes < a.levels.back().write_bytes);
}

TEST_CASE("the L2 model against the measured K/V streaming microbenchmark", "[l2][gpu]") {
  // validation/h100/data/micro/drift (H100, Nsight Compute): kernels with cuDNN's (p) and FA2's (g)
  // schedules and no arithmetic, a Q load and an O store per tile; their K/V reads from DRAM per
  // head against the model running the same kernels (validation/h100/microbench/kernels). Reading
  // a CTA's SM share once per CTA put FA2-like kernels 60-85% high here.
  const std::string root = data_root();
  std::ifstream in(root + "/validation/h100/data/micro/drift/kv_stream_drift.jsonl");
  REQUIRE(in);
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  int checked = 0;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json r = nlohmann::json::parse(line);
    if (!r.value("qo", 0) || r.value("split", 0) || r.value("exposed", 0) || r.value("spill_bytes", 0)) continue;
    const std::string mode = r["mode"].get<std::string>();
    const int64_t heads = r["heads"].get<int64_t>(), seq = r["seq"].get<int64_t>();
    const Workload w = parse_workload(
        load_yaml_string("name: s\nbatch: 1\nq_heads: " + std::to_string(heads) + "\nhead_dim: 128\nphase: prefill\n"
                         "q_len: " + std::to_string(seq) + "\nkv_len: " + std::to_string(seq) + "\npattern: {name: dense}\n", "s"),
        "s");
    Session ses = prepare_session(hw, w, root + "/validation/h100/microbench/kernels/stream_" + mode + ".yaml");
    const GpuSimResult g = simulate_gpu(*ses.trace, ses.hw, ses.kernel->spec());
    const double q = r["q_bytes"].get<double>(), kv = r["kv_bytes"].get<double>();
    const double gpu = (r["dram_read_bytes"].get<double>() - q) / kv, model = (g.levels.back().read_bytes - q) / kv;
    INFO(mode << " " << seq << " keys, " << heads << " heads: K/V read " << gpu << "x per head on the GPU, " << model
              << "x in the model");
    CHECK(model == Approx(gpu).epsilon(0.12));
    ++checked;
  }
  CHECK(checked == 6);
}

TEST_CASE("attnsim_l2_replay: a measured timeline through the L2 model, re-reads near and far", "[l2][tools]") {
  // Four 64 KB tiles read twice by an SM on partition 0 (validation/tools/l2_replay_trace.cpp, the
  // H100 config: two 25 MB partitions, 8.7 MB ramp). Back to back, the second read hits; with
  // 100 MB of Q loads between, it misses in the near partition (which holds all of it) and in the
  // far one (which holds its home half, 50 MB), so DRAM serves both reads.
  CliDir dir;
  const std::string reads = "c 0 1e-6 0 0 0 4\nc 2e-6 3e-6 0 0 0 4 1 \n";  // the second last to first
  write_text(dir.file("near.txt"), "kv 1 4 65536\n" + reads);
  write_text(dir.file("flushed.txt"), "kv 1 4 65536\nc 0 1e-6 0 0 0 4\nf 1.5e-6 100000000 0 0\nc 2e-6 3e-6 0 0 0 4\n");
  const std::string hw = resolve_hw_path("h100-sxm");
  CliResult r = run_cli({hw, dir.file("near.txt")}, dir.path, ATTNSIM_L2_REPLAY);
  REQUIRE(r.rc == 0);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["kv_miss_bytes"].get<double>() == 4 * 65536.0);
  CHECK(j["kv_tile_reads"].get<double>() == 8);
  r = run_cli({hw, dir.file("flushed.txt")}, dir.path, ATTNSIM_L2_REPLAY);
  REQUIRE(r.rc == 0);
  j = nlohmann::json::parse(r.out);
  CHECK(j["kv_miss_bytes"].get<double>() == 8 * 65536.0);
  CHECK(j["q_bytes"].get<double>() == 1e8);
  // A bad record is one line on stderr and exit 1: tiles past the stream, a side the config does
  // not have, a fill before time zero, a header that is not one.
  for (const auto& [text, what] : std::vector<std::pair<std::string, std::string>>{
           {"kv 1 4 65536\nc 0 1e-6 0 0 2 4\n", "bad chunk line"},
           {"kv 1 4 65536\nc 0 1e-6 0 2 0 4\n", "bad chunk line"},
           {"kv 1 4 65536\nc 0 1e-6 0 0 0 4 2\n", "bad chunk line"},
           {"kv 1 4 65536\nc 0 1e-6 0 0 0 4 1 7\n", "bad chunk line"},
           {"kv 1 4 65536\nf -1 100 0 0\n", "bad fill line"},
           {"kv 0 4 65536\n", "must start with"},
           {"kv 1 4 65536\nx 1\n", "unknown record"}}) {
    INFO(text);
    write_text(dir.file("bad.txt"), text);
    r = run_cli({hw, dir.file("bad.txt")}, dir.path, ATTNSIM_L2_REPLAY);
    CHECK(r.rc == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find(what) != std::string::npos);
  }
}

TEST_CASE("the L2 model on the H100's own timelines of K/V streaming kernels", "[l2][tools]") {
  // validation/h100/data/micro/traced (kv_stream_drift.py --trace, kv_stream_replay.py --keep):
  // persistent kernels with bulk K/V copies, each tile on its SM's partition at its measured step
  // times, and the K/V reads Nsight Compute counted in that same launch. Given the GPU's timeline,
  // the cache model must give its reads: 1.9x compulsory at 16k (16 heads), 6.7x at 64k with the
  // CTAs drifting apart (memory-paced, 4 heads), 2.4x at 32k at cuDNN's pace (16 heads).
  CliDir dir;
  const std::string traced = data_root() + "/validation/h100/data/micro/traced/";
  const std::string hw = resolve_hw_path("h100-sxm");
  int checked = 0;
  for (const std::string set : {"bulk", "cudnn"}) {
    std::ifstream in(traced + set + "/kv_stream_traced.jsonl");
    REQUIRE(in);
    for (std::string line; std::getline(in, line);) {
      const nlohmann::json r = nlohmann::json::parse(line);
      std::string timeline = r["trace_file"].get<std::string>();
      timeline = traced + set + "/timeline_" + timeline.substr(6, timeline.size() - 6 - 5) + ".txt.gz";
      if (!std::ifstream(timeline)) continue;  // kept for three kernels only
      const CliResult res = run_cli({hw, timeline}, dir.path, ATTNSIM_L2_REPLAY);
      REQUIRE(res.rc == 0);
      const double kv = r["kv_bytes"].get<double>();
      const double gpu = (r["dram_read_bytes"].get<double>() - r["q_bytes"].get<double>()) / kv;
      const double model = nlohmann::json::parse(res.out)["kv_miss_bytes"].get<double>() / kv;
      INFO(timeline << ": K/V read " << gpu << "x per head on the GPU, " << model << "x replayed");
      CHECK(model == Approx(gpu).epsilon(0.10));
      ++checked;
    }
  }
  CHECK(checked == 3);
}

TEST_CASE("default workers: one per core, as many as free memory holds, at least one", "[jobs]") {
  CHECK(default_workers(8, 64e9, 0.5e9) == 8);
  CHECK(default_workers(128, 16e9, 0.5e9) == 32);   // a wide machine: memory decides
  CHECK(default_workers(4, 0.2e9, 0.5e9) == 1);     // not even one fits: still one
  CHECK(default_workers(16, 0.0, 0.5e9) == 16);     // free memory unknown: cores decide
  CHECK(default_workers(0, 0.0, 0.5e9) == 1);       // core count unknown
  CHECK(default_workers(0.5e9) >= 1);
}

TEST_CASE("forked map: outputs in job order whatever the workers, a job's error comes back", "[jobs]") {
  auto square = [](size_t i) { return std::to_string(i * i) + (i % 3 == 0 ? "\nwith a newline" : ""); };
  const std::vector<std::string> one = forked_map(10, 1, square, "test");
  CHECK(forked_map(10, 3, square, "test") == one);
  CHECK(forked_map(10, 16, square, "test") == one);
  CHECK(one[4] == "16");
  CHECK(one[3] == "9\nwith a newline");
  auto failing = [](size_t i) -> std::string {
    if (i == 5 || i == 7) throw Error("job " + std::to_string(i) + " failed");
    return "ok";
  };
  CHECK_THAT(error_of([&] { forked_map(10, 1, failing, "test"); }), Contains("job 5 failed"));
  CHECK_THAT(error_of([&] { forked_map(10, 4, failing, "test"); }), Contains("job 5 failed"));
}

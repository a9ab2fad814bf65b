// GPU timing model on hand-computable cases: every expected number below is
// derived from the toy config in this file, never taken from an earlier run.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "models/gpu/gpu_params.h"
#include "models/common/bandwidth_server.h"
#include "models/common/spread_series.h"
#include "models/gpu/gpu_sim.h"
#include "models/gpu/l2_residency.h"
#include "sim/config/map_reader.h"
#include "sim/report/report.h"
#include "sim/session/session.h"
#include "sim/timing/timing_model.h"
#include "tests/cli_helpers.h"

using namespace attnsim;

namespace {

struct Toy {
  int sms = 1;
  double tc_flops_per_clock = 4096;
  double exp_per_clock = 16;
  double vector_flops_per_clock = 256;
  std::string hbm_bandwidth = "1000TB/s";
  std::string l2_bandwidth = "1000TB/s";
  std::string l2_capacity = "50MB";
  std::string smem_bandwidth = "1000TB/s";
  int latency_cycles = 0;
  int cta_launch_cycles = 0;
  std::string hbm_extra;  // further keys of the hbm level, e.g. ", loaded_latency: [...]"
};

// 1 GHz, so cycles and nanoseconds coincide.
HwSpec toy_hw(const Toy& t) {
  char yaml[2048];
  std::snprintf(yaml, sizeof yaml, R"(
name: TOY
arch: gpu
sources: {T: test}
clock: 1GHz
compute:
  units: %d
  unit_name: SM
  matrix_paths: {wgmma: {bf16: %g}, mma_sync: {bf16: 2048}}
  exp_per_clock_per_unit: %g
  vector_flops_per_clock_per_unit: %g
memory:
  - {name: smem, kind: scratchpad, per_unit: true, capacity: 228KiB, bandwidth: %s, latency_cycles: 0}
  - {name: l2, kind: cache, capacity: %s, bandwidth: %s, latency_cycles: %d}
  - {name: hbm, kind: dram, capacity: 80GB, bandwidth: %s, latency_cycles: %d%s}
interconnect: {name: nvlink, bandwidth: 450GB/s, latency: 1us, max_chips: 8}
tdp: 700W
gpu:
  launch_overhead: 1ns
  cta_launch_cycles: %d
  max_ctas_per_sm: 32
  max_smem_per_cta: 227KiB
  registers_per_sm: 256KiB
  hbm_efficiency: 1.0
  l2_efficiency: 1.0
  exp_issue_fraction: 1.0
  l2_usable_fraction: 1.0
  kernel_gap: 1ns
)",
                t.sms, t.tc_flops_per_clock, t.exp_per_clock, t.vector_flops_per_clock, t.smem_bandwidth.c_str(),
                t.l2_capacity.c_str(), t.l2_bandwidth.c_str(), t.latency_cycles, t.hbm_bandwidth.c_str(),
                t.latency_cycles, t.hbm_extra.c_str(), t.cta_launch_cycles);
  return parse_hw_spec(load_yaml_string(yaml, "toy"), "toy");
}

// `extra`: further kernel keys (YAML lines), e.g. "persistent: true\n".
// `tiles`: the kernel's tile list (YAML flow sequence) instead of one 128 x 128 tile for every head dim.
std::string toy_kernel(double overlap, double softmax_ops, int ctas_per_sm = 1, const std::string& extra = "",
                       double stages = 2, const std::string& tiles = "") {
  const std::string name = "attnsim_toy_kernel_" + std::to_string(static_cast<int>(overlap * 100)) + "_" +
                           std::to_string(static_cast<int>(softmax_ops)) + "_" + std::to_string(ctas_per_sm) + "_" +
                           std::to_string(std::hash<std::string>{}(extra + tiles)) + "_" +
                           std::to_string(static_cast<int>(stages * 10)) + ".yaml";
  std::ostringstream f;
  f << "name: toy\nimpl: flash_prefill\nmma_path: wgmma\n"
    << "tiles: " << (tiles.empty() ? "[{max_head_dim: 256, q_block: 128, kv_block: 128}]" : tiles) << "\n"
    << "pipeline_stages: " << stages << "\nsoftmax_overlap_fraction: " << overlap << "\nskips_empty_blocks: true\nphases: prefill\n"
    << "ctas_per_sm: " << ctas_per_sm << "\nmma_tile_m: 64\nsmem_reader_rows: 64\n"
    << "softmax_vector_ops_per_element: " << softmax_ops << "\nmask_vector_ops_per_element: 0\n" << extra;
  return attnsim_test::write_temp_file(name, f.str());
}

// One SM whose softmax is practically free, with the given latencies.
Toy mma_only(int latency_cycles, int cta_launch_cycles) {
  Toy t;
  t.exp_per_clock = 1e6;
  t.vector_flops_per_clock = 1e6;
  t.latency_cycles = latency_cycles;
  t.cta_launch_cycles = cta_launch_cycles;
  return t;
}

Workload dense(int64_t heads, int64_t q_len, int64_t kv_len, const std::string& pattern = "{name: dense}") {
  const std::string yaml = "name: t\nbatch: 1\nq_heads: " + std::to_string(heads) + "\nhead_dim: 128\nphase: prefill\nq_len: " +
                           std::to_string(q_len) + "\nkv_len: " + std::to_string(kv_len) + "\npattern: " + pattern + "\n";
  return parse_workload(load_yaml_string(yaml, "t"), "t");
}

double latency_s(const HwSpec& hw, const Workload& w, const std::string& kernel) {
  Session ses = prepare_session(hw, w, kernel);
  return simulate_gpu(*ses.trace, ses.hw, ses.kernel->spec()).latency_s;
}

nlohmann::ordered_json run_json(const HwSpec& hw, const Workload& w, const std::string& kernel) {
  Session ses = prepare_session(hw, w, kernel);
  nlohmann::ordered_json r;
  r["work"] = work_json(ses);
  find_timing_model("gpu")->simulate(ses, r);
  return r;
}

}  // namespace

TEST_CASE("pure tensor-core case: time = blocks x MMA cycles", "[gpu]") {
  Toy t;
  t.exp_per_clock = 1e6;  // softmax practically free
  const HwSpec hw = toy_hw(t);
  // 1 head, 1024 x 1024 dense: 8 x 8 tiles of 128 x 128, each 4*128^3 FLOP at 4096 FLOP/clk.
  const double cycles = 64 * 4.0 * 128 * 128 * 128 / 4096;
  const double expected_s = cycles * 1e-9;
  const double got = latency_s(hw, dense(1, 1024, 1024), toy_kernel(0, 0));
  REQUIRE(got == Approx(expected_s).epsilon(0.002));
}

TEST_CASE("head dims between a kernel's built ones run as the next built one", "[gpu]") {
  Toy t;
  t.exp_per_clock = 1e6;  // softmax practically free: time = MMA cycles
  const HwSpec hw = toy_hw(t);
  const Workload w = parse_workload(load_yaml_string("name: t\nbatch: 1\nq_heads: 1\nhead_dim: 80\nphase: prefill\n"
                                                     "q_len: 1024\nkv_len: 1024\npattern: {name: dense}\n", "t"), "t");
  // 8 x 8 tiles of 128 x 128; built for 64 and 96, d = 80 multiplies 96 columns.
  const double built_s = 64 * 4.0 * 128 * 128 * 96 / 4096 * 1e-9;
  CHECK(latency_s(hw, w, toy_kernel(0, 0, 1, "head_dims: [64, 96]\n")) == Approx(built_s).epsilon(0.002));
  // No list: the head dim itself; beyond the list (d > 64): also itself.
  CHECK(latency_s(hw, w, toy_kernel(0, 0)) == Approx(built_s * 80 / 96).epsilon(0.002));
  CHECK(latency_s(hw, w, toy_kernel(0, 0, 1, "head_dims: [64]\n")) == Approx(built_s * 80 / 96).epsilon(0.002));
  // The list must ascend, each once.
  CHECK_THROWS_WITH(make_kernel(toy_kernel(0, 0, 1, "head_dims: [96, 64]\n")),
                    Catch::Matchers::Contains("head_dims") && Catch::Matchers::Contains("ascending"));
}

TEST_CASE("below its built head dim a tile pays its uneven-width stores, and a tile may set its own occupancy and readers", "[gpu]") {
  Toy t;
  t.exp_per_clock = 1e6;  // softmax practically free: time = MMA cycles + the stores
  t.sms = 4;
  const HwSpec hw = toy_hw(t);
  auto one_head = [](int64_t d) {
    return parse_workload(load_yaml_string("name: t\nbatch: 1\nq_heads: 1\nhead_dim: " + std::to_string(d) +
                                           "\nphase: prefill\nq_len: 128\nkv_len: 1024\npattern: {name: dense}\n", "t"), "t");
  };
  const std::string tiles = "[{max_head_dim: 64, q_block: 128, kv_block: 128},"
                            " {max_head_dim: 96, q_block: 128, kv_block: 128, ctas_per_sm: 3, uneven_width_smem_wavefronts_per_key: 2}]";
  const std::string k = toy_kernel(0, 0, 1, "head_dims: [64, 96]\nuneven_width_cycles_per_wavefront: 1.5\n", 2, tiles);
  // One CTA, 8 KV blocks of 128 keys. d = 96 is built: 4*128*128*96/4096 = 1536 cycles per block.
  const double built_s = 8 * 1536 * 1e-9;
  CHECK(latency_s(hw, one_head(96), k) == Approx(built_s).epsilon(0.002));
  // d = 80 runs the 96 kernel unevenly: 128 keys x 2 wavefronts x 1.5 cycles more per block.
  CHECK(latency_s(hw, one_head(80), k) == Approx(built_s + 8 * 384 * 1e-9).epsilon(0.002));
  // d = 64 is built on a tile without stores; d = 48 runs it unevenly, but that tile has none.
  const double d64_s = 8 * 1024 * 1e-9;
  CHECK(latency_s(hw, one_head(48), k) == Approx(d64_s).epsilon(0.002));
  // The 96 tile's kernel fits 3 CTAs per SM, the kernel's default 1.
  Session ses96 = prepare_session(hw, one_head(96), k);
  CHECK(simulate_gpu(*ses96.trace, ses96.hw, ses96.kernel->spec()).slots == 12);
  Session ses64 = prepare_session(hw, one_head(64), k);
  CHECK(simulate_gpu(*ses64.trace, ses64.hw, ses64.kernel->spec()).slots == 4);
  // A tile's own shared-memory readers: where the shared-memory pipe binds (10 B/clk), a block
  // moves 2*128*64*2 bytes of K/V in, once per reader out, plus Q (128*64*2): 64 rows per reader
  // (the kernel's) against 16 (the tile's).
  Toy narrow = t;
  narrow.smem_bandwidth = "10GB/s";
  const HwSpec slow_smem = toy_hw(narrow);
  const std::string readers16 = toy_kernel(0, 0, 1, "", 2, "[{max_head_dim: 64, q_block: 128, kv_block: 128, smem_reader_rows: 16}]");
  CHECK(latency_s(slow_smem, one_head(64), toy_kernel(0, 0)) == Approx(8 * (32768.0 * 3 + 16384) / 10 * 1e-9).epsilon(0.002));
  CHECK(latency_s(slow_smem, one_head(64), readers16) == Approx(8 * (32768.0 * 9 + 16384) / 10 * 1e-9).epsilon(0.002));
  // The uneven-width stores are wavefronts of that pipe too: one cycle each.
  const std::string stores = toy_kernel(0, 0, 1, "head_dims: [64]\nuneven_width_cycles_per_wavefront: 1.5\n", 2,
                                        "[{max_head_dim: 64, q_block: 128, kv_block: 128, uneven_width_smem_wavefronts_per_key: 2}]");
  CHECK(latency_s(slow_smem, one_head(48), stores) ==
        Approx(8 * ((32768.0 * 3 + 16384) / 10 + 256) * 1e-9).epsilon(0.002));
  // A typo in a tile's key is refused, naming it.
  const std::string bad = toy_kernel(0, 0, 1, "", 2, "[{max_head_dim: 96, q_block: 128, kv_block: 128, ctas_per_SM: 3}]");
  CHECK_THROWS_WITH(make_kernel(bad), Catch::Matchers::Contains("ctas_per_SM"));
}

TEST_CASE("an output accumulator in global memory is read and written through L2 for every K/V block", "[gpu]") {
  Toy t;
  t.exp_per_clock = 1e6;
  const HwSpec hw = toy_hw(t);
  // One CTA of 128 rows (d = 128 from dense()) against 8 blocks of 128 keys.
  const double acc = 128 * 128 * 4.0, kv = 8 * 2 * 128 * 128 * 2.0, q = 128 * 128 * 2.0;
  const auto plain = run_json(hw, dense(1, 128, 1024), toy_kernel(0, 0));
  const auto global = run_json(hw, dense(1, 128, 1024), toy_kernel(0, 0, 1, "", 2,
                                "[{max_head_dim: 256, q_block: 128, kv_block: 128, output_accumulator: global}]"));
  CHECK(plain["traffic"]["l2"]["read_bytes"].get<double>() == Approx(kv + q));
  CHECK(global["traffic"]["l2"]["read_bytes"].get<double>() == Approx(kv + q + 7 * acc));  // none before the first block
  CHECK(global["traffic"]["l2"]["write_bytes"].get<double>() ==
        Approx(plain["traffic"]["l2"]["write_bytes"].get<double>() + 8 * acc));
  // The cache keeps the accumulator: DRAM sees only K, V, Q and O.
  CHECK(global["traffic"]["hbm"]["read_bytes"].get<double>() == Approx(plain["traffic"]["hbm"]["read_bytes"].get<double>()));
  CHECK(global["traffic"]["hbm"]["write_bytes"].get<double>() == Approx(plain["traffic"]["hbm"]["write_bytes"].get<double>()));
  CHECK_THROWS_WITH(make_kernel(toy_kernel(0, 0, 1, "", 2, "[{max_head_dim: 256, q_block: 128, kv_block: 128, output_accumulator: hbm}]")),
                    Catch::Matchers::Contains("output_accumulator"));
}

TEST_CASE("a lone CTA reaches only its share of the SM and a second CTA fills the rest", "[gpu]") {
  const HwSpec hw = toy_hw(mma_only(0, 0));
  // 1 SM; per 128 x 128 block 2048 MMA cycles; 8 blocks per CTA.
  const std::string lone = "lone_cta_throughput_fraction: 0.8\n";
  CHECK(latency_s(hw, dense(1, 128, 1024), toy_kernel(0, 0, 2)) == Approx(8 * 2048e-9).epsilon(0.002));
  CHECK(latency_s(hw, dense(1, 128, 1024), toy_kernel(0, 0, 2, lone)) == Approx(8 * 2048e-9 / 0.8).epsilon(0.002));
  // Two CTAs share the SM's pipes either way: each block takes twice as long, with or without the key.
  CHECK(latency_s(hw, dense(2, 128, 1024), toy_kernel(0, 0, 2, lone)) == Approx(2 * 8 * 2048e-9).epsilon(0.002));
  CHECK_THROWS_WITH(make_kernel(toy_kernel(0, 0, 2, "lone_cta_throughput_fraction: 1.5\n")),
                    Catch::Matchers::Contains("lone_cta_throughput_fraction"));
}

TEST_CASE("softmax_over_q_tile: rows without a query cost a softmax too", "[gpu]") {
  Toy t;
  t.tc_flops_per_clock = 1e8;  // MMAs practically free: the exp sets the pace
  t.vector_flops_per_clock = 1e8;
  const HwSpec hw = toy_hw(t);
  // One query row against 8 blocks of 128 keys, padded to the 128-row tile (computes_full_q_tile).
  const std::string full = "computes_full_q_tile: true\n";
  const double one_row = latency_s(hw, dense(1, 1, 1024), toy_kernel(0, 0, 1, full));
  const double tile = latency_s(hw, dense(1, 1, 1024), toy_kernel(0, 0, 1, full + "softmax_over_q_tile: true\n"));
  CHECK(one_row == Approx(8 * 128 / 16.0 * 1e-9).epsilon(0.05));  // plus the launch's nanosecond or two
  CHECK(tile - one_row == Approx(8 * 127 * 128 / 16.0 * 1e-9).epsilon(0.01));  // 127 more rows of exps per block
}

TEST_CASE("single CTA of known tiles: MMA and softmax with partial overlap", "[gpu]") {
  const HwSpec hw = toy_hw(Toy{});
  // One query block (128 rows) against 8 KV blocks. Per block: MMA 4*128^3/4096 = 2048 cycles;
  // exp 128*128/16 = 1024; vector 128*128*4/256 = 256; overlap f = 0.5 hides 0.5*1280.
  const double per_block = 2048 + 1280 - 0.5 * 1280;
  const double got = latency_s(hw, dense(1, 128, 1024), toy_kernel(0.5, 4));
  REQUIRE(got == Approx(8 * per_block * 1e-9).epsilon(0.002));
  // No overlap: serial sum.
  REQUIRE(latency_s(hw, dense(1, 128, 1024), toy_kernel(0.0, 4)) == Approx(8 * (2048 + 1280) * 1e-9).epsilon(0.002));
}

TEST_CASE("SFU-bound case: small head dim is limited by exp throughput", "[gpu]") {
  Toy t;
  t.exp_per_clock = 4;  // 128*128/4 = 4096 cycles of exp per block vs 2048 of MMA
  const HwSpec hw = toy_hw(t);
  const double got = latency_s(hw, dense(1, 128, 1024), toy_kernel(1.0, 0));
  REQUIRE(got == Approx(8 * 4096 * 1e-9).epsilon(0.002));
  const auto r = run_json(hw, dense(1, 128, 1024), toy_kernel(1.0, 0));
  REQUIRE(r["timing"]["bound"] == "sfu");
}

TEST_CASE("pure-bandwidth case: K/V streamed once at HBM bandwidth", "[gpu]") {
  Toy t;
  t.sms = 132;
  t.tc_flops_per_clock = 1e6;
  t.exp_per_clock = 1e6;
  t.vector_flops_per_clock = 1e6;
  t.hbm_bandwidth = "1TB/s";
  const HwSpec hw = toy_hw(t);
  // 132 heads, one query block each, 65536 keys: K and V read once per head.
  const Workload w = dense(132, 128, 65536);
  const double bytes = 132 * (2.0 * 65536 * 128 * 2 + 2.0 * 128 * 128 * 2);  // K, V + Q, O
  const auto r = run_json(hw, w, toy_kernel(0, 0));
  REQUIRE(r["timing"]["latency_s"].get<double>() == Approx(bytes / 1e12).epsilon(0.02));
  REQUIRE(r["timing"]["bound"] == "memory");
  const double hbm = r["traffic"]["hbm"]["read_bytes"].get<double>() + r["traffic"]["hbm"]["write_bytes"].get<double>();
  // Every CTA stores its O at the very end: most of it is still in the write-back L2 then.
  const double dirty = r["timing"]["l2_dirty_at_end_bytes"].get<double>();
  REQUIRE(dirty > 0.9 * 132 * 128 * 128 * 2);
  REQUIRE(hbm + dirty == Approx(bytes).epsilon(1e-9));
}

TEST_CASE("wave quantisation: 133 equal CTAs on 132 SMs take two waves", "[gpu]") {
  Toy t;
  t.sms = 132;
  const HwSpec hw = toy_hw(t);
  const std::string k = toy_kernel(0, 0);
  const double one_wave = latency_s(hw, dense(132, 128, 1024), k);
  const double two_waves = latency_s(hw, dense(133, 128, 1024), k);
  REQUIRE(two_waves / one_wave == Approx(2.0).epsilon(0.01));
  REQUIRE(latency_s(hw, dense(264, 128, 1024), k) == Approx(two_waves).epsilon(0.01));
}

TEST_CASE("L2 reuse: query blocks of one head share K/V, so HBM sees each tile once", "[gpu]") {
  Toy t;
  t.sms = 8;
  const HwSpec hw = toy_hw(t);
  const auto r = run_json(hw, dense(1, 1024, 1024), toy_kernel(0, 0));
  const double kv = 2.0 * 1024 * 128 * 2;
  REQUIRE(r["traffic"]["hbm"]["read_bytes"].get<double>() == Approx(kv + 1024 * 128 * 2.0));
  // A tiny L2 forces misses: more HBM traffic, never less time.
  Toy small = t;
  small.l2_capacity = "32KiB";  // smaller than one 64 KiB K+V tile: nothing is kept
  small.hbm_bandwidth = "100GB/s";
  Toy big = t;
  big.hbm_bandwidth = "100GB/s";
  const auto rs = run_json(toy_hw(small), dense(1, 1024, 1024), toy_kernel(0, 0));
  const auto rb = run_json(toy_hw(big), dense(1, 1024, 1024), toy_kernel(0, 0));
  REQUIRE(rs["traffic"]["hbm"]["read_bytes"].get<double>() > rb["traffic"]["hbm"]["read_bytes"].get<double>());
  REQUIRE(rs["timing"]["latency_s"].get<double>() >= rb["timing"]["latency_s"].get<double>());
}

TEST_CASE("monotonic: more density is never faster", "[gpu]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  double last = 0;
  for (double density : {0.05, 0.1, 0.2, 0.4, 0.8}) {
    const auto w = dense(8, 8192, 8192, "{name: random_block, density: " + std::to_string(density) + "}");
    const double t = latency_s(hw, w, "flex");
    REQUIRE(t >= last);
    last = t;
  }
}

TEST_CASE("monotonic: more HBM bandwidth or more SMs is never slower", "[gpu]") {
  const Workload decode = parse_workload(
      load_yaml_string("name: d\nbatch: 8\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\nphase: decode\nkv_len: 16384\n", "d"), "d");
  double last = 1e9;
  for (const char* bw : {"500GB/s", "1TB/s", "2TB/s", "4TB/s"}) {
    Toy t;
    t.sms = 132;
    t.hbm_bandwidth = bw;
    t.latency_cycles = 500;
    const double s = latency_s(toy_hw(t), decode, "flash_decoding");
    REQUIRE(s <= last);
    last = s;
  }
  double last_sm = 1e9;
  for (int sms : {33, 66, 132}) {
    Toy t;
    t.sms = sms;
    const double s = latency_s(toy_hw(t), dense(16, 2048, 2048), toy_kernel(0, 4));
    REQUIRE(s <= last_sm);
    last_sm = s;
  }
}

TEST_CASE("latency floor: a tiny case is not predicted at zero", "[gpu]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  const auto r = run_json(hw, dense(1, 128, 128), "fa3");
  const double launch = hw.params<GpuParams>().launch_overhead_s;
  REQUIRE(r["timing"]["latency_s"].get<double>() > launch);
  REQUIRE(r["timing"]["bound"] == "latency");
}

TEST_CASE("imbalance: one global row that attends everything shows up as a tail", "[gpu]") {
  Toy t;
  t.sms = 132;
  const HwSpec hw = toy_hw(t);
  // Sliding window + global tokens: the global query block visits every KV block.
  const auto w = dense(1, 32768, 32768, "{name: local_global, window_tokens: 256, global_tokens: 128, causal: false}");
  const auto r = run_json(hw, w, toy_kernel(0, 4));
  REQUIRE(r["timing"]["bound"] == "imbalance");
}

TEST_CASE("split-KV decode adds a combine pass after a kernel gap", "[gpu]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  const Workload w = parse_workload(
      load_yaml_string("name: d\nbatch: 1\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\nphase: decode\nkv_len: 65536\n", "d"), "d");
  Session ses = prepare_session(hw, w, "flash_decoding");
  REQUIRE(ses.trace->tiling().kv_splits > 1);
  const GpuSimResult r = simulate_gpu(*ses.trace, ses.hw, ses.kernel->spec());
  double last_attention_end = 0, first_combine_start = 1e9;
  for (const CtaRecord& c : r.cta_records) {
    if (ses.trace->units()[c.unit].kind == WorkKind::attention) last_attention_end = std::max(last_attention_end, c.end_s);
    else first_combine_start = std::min(first_combine_start, c.start_s);
  }
  REQUIRE(first_combine_start >= last_attention_end + hw.params<GpuParams>().kernel_gap_s - 1e-12);
  // FA2's combine is a chain: its fixed cost, the log-sum-exps, then one L2 round trip per split
  // (291 cycles at 1.83 GHz); CTA launch, merge math and the small transfers add well under 1 us.
  double combine_end = 0;
  for (const CtaRecord& c : r.cta_records) combine_end = std::max(combine_end, c.end_s);
  const double splits = static_cast<double>(ses.trace->tiling().kv_splits);
  const double chain_s = ses.kernel->spec().combine_overhead_s + (splits + 1) * 291 / 1.83e9;
  CHECK(ses.kernel->spec().combine_serial);
  CHECK(combine_end - first_combine_start >= chain_s);
  CHECK(combine_end - first_combine_start < chain_s + 1e-6);
}

TEST_CASE("deterministic: same inputs give identical results", "[gpu]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  const auto w = dense(8, 4096, 4096, "{name: bigbird}");
  REQUIRE(run_json(hw, w, "flex").dump() == run_json(hw, w, "flex").dump());
}

TEST_CASE("the hardware graph decides the path: a link or a level is a config change", "[gpu]") {
  const std::string base = R"(
name: TOY
arch: gpu
sources: {T: test}
clock: 1GHz
compute:
  units: 8
  unit_name: SM
  matrix_paths: {wgmma: {bf16: 4096}}
  exp_per_clock_per_unit: 16
  vector_flops_per_clock_per_unit: 256
interconnect: {name: nvlink, bandwidth: 450GB/s, latency: 1us, max_chips: 8}
tdp: 700W
gpu: {launch_overhead: 1ns, cta_launch_cycles: 0, max_ctas_per_sm: 32, max_smem_per_cta: 227KiB,
      registers_per_sm: 256KiB, hbm_efficiency: 1.0, l2_efficiency: 1.0, exp_issue_fraction: 1.0,
      l2_usable_fraction: 1.0, kernel_gap: 1ns}
)";
  const std::string chain = R"(
memory:
  - {name: smem, kind: scratchpad, per_unit: true, capacity: 228KiB, bandwidth: 1000TB/s, latency_cycles: 0}
  - {name: l2, kind: cache, capacity: 50MB, bandwidth: 1000TB/s, latency_cycles: 0}
  - {name: hbm, kind: dram, capacity: 80GB, bandwidth: 1TB/s, latency_cycles: 0}
)";
  const Workload w = dense(1, 1024, 1024);
  const std::string k = toy_kernel(0, 0);
  const auto with_l2 = run_json(parse_hw_spec(load_yaml_string(base + chain, "a"), "a"), w, k);
  // A direct HBM -> SMEM link is the shorter route: K/V bypass L2, so no reuse.
  const std::string bypass = chain + "links:\n  - {from: hbm, to: smem, bandwidth: 1TB/s}\n";
  const auto without = run_json(parse_hw_spec(load_yaml_string(base + bypass, "b"), "b"), w, k);
  REQUIRE(without["traffic"]["hbm"]["read_bytes"].get<double>() > 4 * with_l2["traffic"]["hbm"]["read_bytes"].get<double>());
  REQUIRE_FALSE(without["traffic"].contains("l2"));
  // An extra level on the chain appears in the report and carries the traffic.
  const std::string l3 = R"(
memory:
  - {name: smem, kind: scratchpad, per_unit: true, capacity: 228KiB, bandwidth: 1000TB/s, latency_cycles: 0}
  - {name: l2, kind: cache, capacity: 50MB, bandwidth: 1000TB/s, latency_cycles: 0}
  - {name: l3, kind: cache, capacity: 500MB, bandwidth: 100TB/s, latency_cycles: 0}
  - {name: hbm, kind: dram, capacity: 80GB, bandwidth: 1TB/s, latency_cycles: 0}
)";
  const auto with_l3 = run_json(parse_hw_spec(load_yaml_string(base + l3, "c"), "c"), w, k);
  REQUIRE(with_l3["traffic"]["l3"]["read_bytes"].get<double>() ==
          Approx(with_l3["traffic"]["hbm"]["read_bytes"].get<double>()));
}

TEST_CASE("L2 residency: a working set that fits always hits, beyond it, random replacement still reuses", "[gpu]") {
  L2Residency fits(1, 5, 4.0);  // four 1-byte tiles in a 4-byte cache
  for (int pass = 0; pass < 3; ++pass) {
    for (int64_t i = 0; i < 4; ++i) fits.access(0, i, 1);
  }
  CHECK(fits.misses() == Approx(4));
  CHECK(fits.hits() == Approx(8));
  CHECK(fits.access(0, 4, 5) == Approx(5));  // a tile larger than the cache always misses
  // Survival after fills into a full cache: tile 0 was last read at fill mark 0 (< capacity 4);
  // 9 bytes filled since (4 + 5), of which 5 evict: it misses 1 - exp(-5/4).
  CHECK(fits.access(0, 0, 1) == Approx(1 - std::exp(-5.0 / 4.0)));
  // A tile announced ahead: the fills expected before it count as if they had happened.
  L2Residency ahead(1, 2, 4.0);
  ahead.access(0, 0, 1);        // mark 0, fills 1
  ahead.fill(7);                // 8 filled; 4 of them into a full cache
  CHECK(ahead.access(0, 0, 1, 2.0) == Approx(1 - std::exp(-6.0 / 4.0)));
  CHECK(ahead.resident_fraction(ahead.filled_bytes()) == Approx(1.0));
  // Cyclic re-reads of 1.28x and 1.92x the capacity (64 and 96 MiB over 50 MB). Random
  // replacement's fixed point m = 1 - exp(-m W / C) gives hit fractions 0.60 and 0.23; the
  // H100 microbenchmark (micro/l2_bandwidth.jsonl: 6.5 and 4.76 TB/s against 7.9 TB/s from
  // L2 and 3.1 TB/s from DRAM) implies 0.52-0.85 and 0.35-0.57 (docs/gpu-model.md).
  auto cyclic_hits = [](int64_t footprint) {
    L2Residency l2(1, footprint, 800.0);
    for (int pass = 0; pass < 5; ++pass) {
      for (int64_t i = 0; i < footprint; ++i) l2.access(0, i, 1);
    }
    const double warm_hits = l2.hits(), warm_misses = l2.misses();
    for (int pass = 0; pass < 20; ++pass) {
      for (int64_t i = 0; i < footprint; ++i) l2.access(0, i, 1);
    }
    return (l2.hits() - warm_hits) / (l2.hits() - warm_hits + l2.misses() - warm_misses);
  };
  CHECK(cyclic_hits(1024) == Approx(0.60).margin(0.02));
  CHECK(cyclic_hits(1536) == Approx(0.23).margin(0.02));
}

TEST_CASE("KV order: a last-to-first loop loses the reuse a causal first-to-last loop keeps", "[gpu]") {
  // One SM runs the three query blocks of a causal 384-token head in order, one K/V tile
  // per request (no look-ahead); the L2 holds one 64 KiB K+V tile, Q and O tiles are 32 KiB
  // each and fill it too. In KiB, a tile last read at mark M misses 1 - exp(-(F - max(M, 64))/64).
  // First to last: Q F=32; t0 miss, F=96; O 128 | Q 160; t0 1-e^-1.5, F=209.7; t1 miss, F=273.7;
  // O 305.7 | Q 337.7; t0 1-e^-2.777, F=397.7; t1 1-e^-2.938; t2 miss -> 5.6617.
  // Last to first: Q 32; t0 miss, F=96; O 128 | Q 160; t1 miss, F=224; t0 1-e^-2.5, F=282.7;
  // O 314.7 | Q 346.7; t2 miss, F=410.7; t1 1-e^-3.918, F=473.5; t0 1-e^-3.898 -> 5.8777.
  Toy t;
  t.l2_capacity = "64KiB";
  const HwSpec hw = toy_hw(t);
  const Workload w = dense(1, 384, 384, "{name: causal}");
  GpuSimOptions one_tile;
  one_tile.quantum_blocks = 1;
  for (const auto& [order, misses] : {std::pair<std::string, double>{"ascending", 5.6617}, {"descending", 5.8777}}) {
    Session ses = prepare_session(hw, w, toy_kernel(0, 0, 1, "kv_order: " + order + "\n"));
    const GpuSimResult r = simulate_gpu(*ses.trace, ses.hw, ses.kernel->spec(), one_tile);
    CHECK(r.l2_misses == Approx(misses).epsilon(1e-4));
    CHECK(r.l2_hits + r.l2_misses == Approx(6));
  }
}

TEST_CASE("exposed load latency: each tile's latency adds to the compute chain", "[gpu]") {
  // One unit of 4 KV blocks; MMA 4*128^3/4096 = 2048 cycles per block, softmax free,
  // 1000-cycle latency, 0.5 tile pairs in flight. Q load: 1000. Hidden (default):
  // max(4*2048 + 1000, 4*1000/0.5 + ...) = 9192 -> 10192. Exposed: 4*2048 + 4*2000 = 16192 -> 17192.
  const HwSpec hw = toy_hw(mma_only(1000, 0));
  const Workload w = dense(1, 128, 512);
  const double hidden = latency_s(hw, w, toy_kernel(0, 0, 1, "", 0.5));
  const double exposed = latency_s(hw, w, toy_kernel(0, 0, 1, "exposed_load_latency: true\n", 0.5));
  CHECK(hidden == Approx(10192e-9 + 1e-9).epsilon(1e-3));
  CHECK(exposed == Approx(17192e-9 + 1e-9).epsilon(1e-3));
}

TEST_CASE("persistent kernel: later tiles skip the CTA launch and the Q/first-tile latency", "[gpu]") {
  // 4 units (4 heads, one 128 x 128 block each) on one SM; MMA 2048 cycles per block,
  // latency 1000, launch 500 (set below). Non-persistent unit: 500 + 1000 (Q) +
  // max(2048 + 1000, 1000/2 + 2048) = 4548. Persistent after the first: 0 + 0 + max(2048, 500 + 2048) = 2548.
  const HwSpec hw = toy_hw(mma_only(1000, 500));
  const Workload w = dense(4, 128, 128);
  const double grid = latency_s(hw, w, toy_kernel(0, 0));
  const double persistent = latency_s(hw, w, toy_kernel(0, 0, 1, "persistent: true\n"));
  CHECK(grid == Approx((4 * 4548 + 1) * 1e-9).epsilon(1e-3));
  CHECK(persistent == Approx((4548 + 3 * 2548 + 1) * 1e-9).epsilon(1e-3));
}

TEST_CASE("bandwidth server: utilisation is the bytes carried over what the window could carry", "[gpu]") {
  BandwidthServer hbm("hbm", 1e9, 1e-7);  // 100 bytes per 0.1 us bucket
  hbm.transfer(0.0, 500);                 // fills the first five buckets
  CHECK(hbm.utilization(1e-6, 1e-6, 1e9) == Approx(0.5));
  CHECK(hbm.utilization(5e-7, 5e-7, 1e9) == Approx(1.0));
  CHECK(hbm.utilization(5e-7, 5e-7, 2e9) == Approx(0.5));  // against a higher reference peak
  CHECK(hbm.utilization(2e-6, 1e-6, 1e9) == Approx(0.0));
}

TEST_CASE("bandwidth server: a long window's utilisation equals the bucket-by-bucket sum", "[gpu]") {
  // Windows over hundreds of buckets are summed a block of buckets at a time; check them
  // against the buckets themselves, with both ends mid-bucket.
  BandwidthServer l2("l2", 1e9, 1e-7);
  for (int i = 0; i < 3000; ++i) l2.transfer(i * 7.3e-8, 20 + (i * 37) % 90);
  const std::vector<double>& b = l2.bucket_bytes();
  for (const auto& [t, w] : {std::pair{1.23456e-4, 9.87e-5}, std::pair{2.0e-4, 1.0e-4}, std::pair{5.55e-6, 5.0e-6},
                             std::pair{2.1e-4, 2.0e-4}}) {
    const double lo = t - w;
    double bytes = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      const double b0 = static_cast<double>(i) * 1e-7;
      bytes += b[i] * std::max(0.0, std::min(t, b0 + 1e-7) - std::max(lo, b0)) / 1e-7;
    }
    CHECK(l2.utilization(t, w, 1e9) == Approx(bytes / (1e9 * w)).epsilon(1e-12));
  }
}

TEST_CASE("spread series: bytes spread evenly over an interval, whole buckets and the two ends", "[gpu]") {
  SpreadSeries s(1.0);
  s.add(0.25, 0.75, 8);    // inside one bucket: all of it there
  s.add(1.5, 5.25, 15);    // 4 bytes/s: 2 in bucket 1, 4 in 2..4, 1 in bucket 5
  s.add(2.0, 3.0, 6);      // from a bucket's start to the next one's
  const std::vector<double> b = s.buckets();
  REQUIRE(b.size() > 6);
  CHECK(b[0] == Approx(8));
  CHECK(b[1] == Approx(2));
  CHECK(b[2] == Approx(4 + 6));
  CHECK(b[3] == Approx(4).margin(1e-12));
  CHECK(b[4] == Approx(4));
  CHECK(b[5] == Approx(1));
  CHECK(b[6] == Approx(0).margin(1e-12));
  double total = 0;
  for (double x : b) total += x;
  CHECK(total == Approx(29));
}

TEST_CASE("loaded latency: a flat curve is the unloaded latency, a rising one slows a memory-bound run", "[gpu]") {
  // 132 SMs stream 132 heads' K/V (memory-bound, 8 blocks per CTA) with a 1 us DRAM latency.
  Toy t = mma_only(1000, 0);
  t.sms = 132;
  t.hbm_bandwidth = "1TB/s";
  t.l2_capacity = "32KiB";  // no reuse: every K/V tile comes from DRAM
  const Workload w = dense(132, 128, 1024);
  const std::string k = toy_kernel(0, 0, 1, "", 0.5);
  const double none = latency_s(toy_hw(t), w, k);
  t.hbm_extra = ", loaded_latency: [{utilization: 0.0, latency: 1us}, {utilization: 1.0, latency: 1us}]";
  CHECK(latency_s(toy_hw(t), w, k) == Approx(none).epsilon(1e-12));
  t.hbm_extra = ", loaded_latency: [{utilization: 0.0, latency: 1us}, {utilization: 0.5, latency: 3us}]";
  const double loaded = latency_s(toy_hw(t), w, k);
  CHECK(loaded > none * 1.05);
  // Unordered points are a config error.
  t.hbm_extra = ", loaded_latency: [{utilization: 0.5, latency: 1us}, {utilization: 0.2, latency: 3us}]";
  CHECK_THROWS_WITH(toy_hw(t), Catch::Matchers::Contains("ascending utilization"));
}

// TPU timing model on hand-computable cases. Every expected number is derived in the
// comments from the toy config below (1 GHz: cycles and nanoseconds coincide), the MXU
// per-fold costs of docs/tpu-model.md and the DMA rule (bytes / HBM bandwidth), never
// taken from an earlier run.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "models/tpu/tpu_core.h"
#include "models/tpu/tpu_gemm.h"
#include "models/tpu/tpu_sim.h"
#include "sim/config/map_reader.h"
#include "sim/report/report.h"
#include "sim/session/session.h"
#include "sim/timing/timing_model.h"
#include "tests/cli_helpers.h"

using namespace attnsim;

namespace {

struct Toy {
  int cores = 1;
  int mxus = 1;  // 128 x 128 each
  std::string hbm = "1000TB/s";
  int buffers = 2;  // stationary-operand buffers per MXU
};

// 1 GHz; the vector unit is so fast that its cycles vanish unless a test asks for them
// (a 128 x 128 score block costs 0.016 cycles of exp: the 1e-4 tolerances below cover it).
HwSpec toy_tpu(const Toy& t) {
  char yaml[2048];
  std::snprintf(yaml, sizeof yaml, R"(
name: TOYTPU
arch: tpu
sources: {T: test}
clock: 1GHz
compute:
  units: %d
  unit_name: TensorCore
  matrix_paths: {mxu: {bf16: %d}}
  exp_per_clock_per_unit: 1e6
  vector_flops_per_clock_per_unit: 1e6
memory:
  - {name: vmem, kind: scratchpad, per_unit: true, capacity: 128MiB, bandwidth: 1000000TB/s, latency_cycles: 0}
  - {name: hbm, kind: dram, capacity: 16GB, bandwidth: %s, latency_cycles: 0}
interconnect: {name: ici, bandwidth: 400GB/s, latency: 1us, max_chips: 4}
tdp: 200W
tpu:
  mxu_rows: 128
  mxu_cols: 128
  mxus_per_core: %d
  cores_per_chip: %d
  launch_overhead: 1ns
  hbm_efficiency: 1.0
  mxu_dataflow: ws
  mxu_stationary_buffers: %d
)",
                t.cores, 2 * 128 * 128 * t.mxus, t.hbm.c_str(), t.mxus, t.cores, t.buffers);
  return parse_hw_spec(load_yaml_string(yaml, "toytpu"), "toytpu");
}

std::string toy_kernel(const std::string& name, const std::string& grid, double overhead_cycles, int64_t kv_block = 128,
                       bool pack = false) {
  std::ostringstream f;
  f << "name: " << name << "\nimpl: flash_prefill\narch: tpu\nmma_path: mxu\n"
    << "tiles: [{max_head_dim: 256, q_block: 128, kv_block: " << kv_block << "}]\n"
    << "pipeline_stages: 2\nskips_empty_blocks: true\nphases: both\npack_gqa: " << (pack ? "true" : "false") << "\n"
    << "softmax_vector_ops_per_element: 0\nmask_vector_ops_per_element: 0\n"
    << "tpu: {kv_grid: " << grid << ", grid_step_overhead_cycles: " << overhead_cycles
    << ", mxu_vpu_overlap_fraction: 0, rescale_vector_ops_per_output: 0}\n";
  return attnsim_test::write_temp_file("attnsim_tpu_" + name + ".yaml", f.str());
}

Workload layer(int64_t q_heads, int64_t kv_heads, int64_t q_len, int64_t kv_len, const std::string& pattern,
               const std::string& phase = "prefill") {
  const std::string yaml = "name: t\nbatch: 1\nq_heads: " + std::to_string(q_heads) + "\nkv_heads: " +
                           std::to_string(kv_heads) + "\nhead_dim: 128\nphase: " + phase + "\nq_len: " +
                           std::to_string(q_len) + "\nkv_len: " + std::to_string(kv_len) + "\npattern: " + pattern + "\n";
  return parse_workload(load_yaml_string(yaml, "t"), "t");
}

TpuSimResult sim(const HwSpec& hw, const Workload& w, const std::string& kernel) {
  Session ses = prepare_session(hw, w, kernel);
  return simulate_tpu(*ses.trace, ses.hw, ses.kernel->spec());
}

nlohmann::ordered_json run_json(const HwSpec& hw, const Workload& w, const std::string& kernel) {
  Session ses = prepare_session(hw, w, kernel);
  nlohmann::ordered_json r;
  r["workload"] = workload_json(ses);
  r["work"] = work_json(ses);
  find_timing_model(ses.hw.arch)->simulate(ses, r);
  return r;
}

// A 128 x 128 x 128 GEMM on one 128 x 128 weight-stationary MXU is one fold of
// 2R + C + T - 2 = 256 + 128 + 128 - 2 = 510 cycles; a step runs Q.K^T and P.V: 1020.
constexpr double kStepCycles = 1020;
constexpr double kBlockBytes = 128 * 128 * 2;  // one 128-row block of Q, K, V or O in bf16

}  // namespace

TEST_CASE("TPU core: GEMM layouts over the MXUs, hand-computed", "[tpu]") {
  TpuParams p;
  p.mxu_rows = p.mxu_cols = 128, p.mxus_per_core = 4, p.mxu_stationary_buffers = 2;
  // 512 x 512 x 128 on 4 MXUs: WS puts K = 128 on the rows and N = 512 on 4 column folds,
  // one per MXU, each streaming M = 512 rows: 256 + 128 + 512 - 2 = 894 cycles.
  CHECK(core_gemm_cycles(p, 512, 512, 128) == Approx(894));
  // One MXU: 4 folds back to back. Double-buffered weights: 894 + 3 x max(512, 128) = 2430;
  // single-buffered (SCALE-Sim): 4 x 894 = 3576.
  p.mxus_per_core = 1;
  CHECK(core_gemm_cycles(p, 512, 512, 128) == Approx(2430));
  p.mxu_stationary_buffers = 1;
  CHECK(core_gemm_cycles(p, 512, 512, 128) == Approx(3576));
  // Decode rows (8 x 2048 x 128): 16 column folds of T = 8 rows: 390 + 15 x 128 = 2310 with
  // buffering beats the transposed layout (one fold streaming 2048 rows: 2430).
  p.mxu_stationary_buffers = 2;
  CHECK(core_gemm_cycles(p, 8, 2048, 128) == Approx(2310));
  // int8 at twice the bf16 rate halves the cycles.
  CHECK(core_gemm_cycles(p, 8, 2048, 128, 2.0) == Approx(1155));
}

TEST_CASE("TPU: single-step kernel is DMA, then MXU, then write-back, in series", "[tpu]") {
  Toy t;
  t.hbm = "100GB/s";
  // Q, K, V blocks: 3 x 32768 B at 100 GB/s = 983.04 ns before the step can start; the step
  // computes 1020 cycles; O (32768 B) leaves in 327.68 ns; launch 1 ns.
  const TpuSimResult r = sim(toy_tpu(t), layer(1, 1, 128, 128, "{name: dense}"), toy_kernel("one", "compressed", 0));
  CHECK(r.kernel_s == Approx((3 * kBlockBytes / 100e9) + kStepCycles * 1e-9 + kBlockBytes / 100e9).epsilon(1e-4));
  CHECK(r.latency_s == Approx(r.kernel_s + 1e-9).epsilon(1e-9));
  CHECK(r.grid_steps == 1);
  CHECK(r.levels.back().read_bytes == 3 * kBlockBytes);
  CHECK(r.levels.back().write_bytes == kBlockBytes);
}

TEST_CASE("TPU: double buffering hides DMA when compute-bound, exposes compute when memory-bound", "[tpu]") {
  const Workload w = layer(1, 1, 128, 16 * 128, "{name: dense}");
  const std::string k = toy_kernel("db", "compressed", 0);
  Toy fast;
  fast.hbm = "1TB/s";
  // K + V per step: 65536 B = 65.5 ns at 1 TB/s, far under 1020 cycles: only the first
  // step's DMA (98304 B = 98.3 ns) and the last write-back (32.8 ns) are exposed.
  const TpuSimResult c = sim(toy_tpu(fast), w, k);
  CHECK(c.kernel_s == Approx(3 * kBlockBytes / 1e12 + 16 * kStepCycles * 1e-9 + kBlockBytes / 1e12).epsilon(1e-4));
  Toy slow;
  slow.hbm = "10GB/s";
  // 65536 B per step = 6553.6 ns > 1020: HBM never idles. All inputs (Q + 16 K/V pairs =
  // 33 blocks) take 33 x 3276.8 ns; only the last step's compute and O's write-back remain.
  const TpuSimResult m = sim(toy_tpu(slow), w, k);
  CHECK(m.kernel_s == Approx(33 * kBlockBytes / 10e9 + kStepCycles * 1e-9 + kBlockBytes / 10e9).epsilon(1e-4));
  CHECK(m.dma_wait_s > 0.8 * m.kernel_s);
}

TEST_CASE("TPU: megacore splits two heads over two TensorCores", "[tpu]") {
  const Workload w = layer(2, 2, 128, 16 * 128, "{name: dense}");
  const std::string k = toy_kernel("mc", "compressed", 0);
  Toy one, two;
  two.cores = 2;
  // One core: 32 steps of 1020 cycles; two cores: 16 each, side by side. DMA at 1000 TB/s
  // adds well under a nanosecond.
  const TpuSimResult a = sim(toy_tpu(one), w, k), b = sim(toy_tpu(two), w, k);
  CHECK(a.kernel_s == Approx(32 * kStepCycles * 1e-9).epsilon(1e-3));
  CHECK(b.kernel_s == Approx(16 * kStepCycles * 1e-9).epsilon(1e-3));
  REQUIRE(b.core_busy_s.size() == 2);
  CHECK(b.core_busy_s[0] == Approx(b.core_busy_s[1]).epsilon(1e-3));
}

TEST_CASE("TPU: skipped blocks cost grid-step bookkeeping only, and no bytes", "[tpu]") {
  // 512 x 512 causal in 128 blocks: rows hold 1, 2, 3, 4 blocks = 10 computed; the
  // flash-style grid spans all 4 columns per row: 16 steps, 6 skipped.
  const Workload w = layer(1, 1, 512, 512, "{name: causal}");
  const HwSpec hw = toy_tpu(Toy{});
  const TpuSimResult free = sim(hw, w, toy_kernel("skip0", "all_blocks", 0));
  CHECK(free.grid_steps == 16);
  CHECK(free.skipped_steps == 6);
  CHECK(free.kernel_s == Approx(10 * kStepCycles * 1e-9).epsilon(1e-3));
  // Only computed blocks are fetched: 10 K/V pairs + 4 Q blocks; 4 O blocks written.
  CHECK(free.levels.back().read_bytes == (2 * 10 + 4) * kBlockBytes);
  CHECK(free.levels.back().write_bytes == 4 * kBlockBytes);
  // 1000 cycles of bookkeeping on every one of the 16 steps, computed or not.
  const TpuSimResult paid = sim(hw, w, toy_kernel("skip1000", "all_blocks", 1000));
  CHECK(paid.kernel_s - free.kernel_s == Approx(16 * 1000e-9).epsilon(1e-3));
  CHECK(paid.levels.back().read_bytes == free.levels.back().read_bytes);
  // The compressed (splash) grid has as many columns as the longest row: 4, so 16 steps too;
  // a 2-block sliding window shrinks it to 2 columns: 8 steps, 1 skipped (the first row).
  const TpuSimResult window = sim(hw, layer(1, 1, 512, 512, "{name: sliding_window, window_tokens: 129}"),
                                  toy_kernel("skipw", "compressed", 1000));
  CHECK(window.grid_steps == 8);
  CHECK(window.skipped_steps == 1);
}

TEST_CASE("TPU: memory-bound decode streams K/V at the HBM rate", "[tpu]") {
  Toy t;
  t.hbm = "100GB/s";
  // One token, 8 query heads packed on one KV head, 65536 keys in 2048-key steps. K + V:
  // 2 x 65536 x 128 x 2 B = 33.55 MB = 335.5 us at 100 GB/s; a step's DMA (1 MiB, 10.5 us)
  // exceeds its compute (Q.K^T and P.V of 8 x 2048 x 128: 2 x 2310 cycles = 4.6 us).
  const Workload w = layer(8, 1, 1, 65536, "{name: dense}", "decode");
  const auto r = run_json(toy_tpu(t), w, toy_kernel("dec", "compressed", 0, 2048, true));
  const double kv_bytes = 2.0 * 65536 * 128 * 2;
  CHECK(r["traffic"]["hbm"]["read_bytes"].get<double>() == Approx(kv_bytes + 8 * 128 * 2));
  // Streaming time plus the last step's compute (4.62 us) and the 2 KiB output.
  CHECK(r["timing"]["kernel_s"].get<double>() == Approx((kv_bytes + 2048) / 100e9 + 4620e-9 + 2048 / 100e9).epsilon(1e-3));
  CHECK(r["timing"]["bound"] == "memory");
}

TEST_CASE("TPU: report has the GPU report's sections and fields, and is deterministic", "[tpu]") {
  const Workload w = layer(4, 2, 1024, 1024, "{name: causal}");
  const auto tpu = run_json(load_hw_spec(resolve_hw_path("tpu-v5p")), w, "");
  const auto gpu = run_json(load_hw_spec(resolve_hw_path("h100-sxm")), w, "");
  for (const char* section : {"timing", "traffic", "series"}) {
    REQUIRE(tpu.contains(section));
    REQUIRE(gpu.contains(section));
  }
  for (const char* key : {"latency_s", "latency_us", "latency_cycles", "kernel_s", "launch_overhead_s", "clock_hz",
                          "achieved_tflops", "executed_tflops", "bound"}) {
    CHECK(tpu["timing"].contains(key));
    CHECK(gpu["timing"].contains(key));
  }
  CHECK(tpu["timing"].contains("mxu_utilization"));
  CHECK(tpu["timing"].contains("vpu_utilization"));
  for (const char* level : {"vmem", "hbm"}) {
    for (const auto& [field, v] : gpu["traffic"]["hbm"].items()) CHECK(tpu["traffic"][level].contains(field));
    CHECK(tpu["series"].contains(std::string(level) + "_bytes_per_s"));
  }
  CHECK(tpu["workload"]["kernel"] == "tpu_splash");
  CHECK(tpu["timing"]["tensorcores"] == 2);
  CHECK(run_json(load_hw_spec(resolve_hw_path("tpu-v5p")), w, "").dump() == tpu.dump());
}

TEST_CASE("TPU GEMM estimate: steps at max(compute, DMA) plus the exposed first DMA", "[tpu]") {
  Toy t;
  t.mxus = 4;
  t.hbm = "1TB/s";
  const HwSpec hw = toy_tpu(t);
  TpuGemmOptions o;
  o.step_overhead_cycles = 0;
  o.mxu_vpu_overlap_fraction = 1.0;  // the VPU's accumulate (512 x 512 / 1e6 per cycle) hides entirely
  // 1024^3 in 512 blocks: 2 x 2 tiles x 2 K-steps = 8 steps on one core. A step is
  // 512 x 512 x 512 on 4 MXUs: 4 x 4 folds, 4 per MXU: 894 + 3 x 512 = 2430 cycles; its
  // DMA (2 x 512 x 512 x 2 B = 1 MiB) takes 1048.6 ns: compute-bound.
  const TpuGemmEstimate e = estimate_tpu_gemm(hw, 1024, 1024, 1024, o);
  CHECK(e.steps_per_core == 8);
  CHECK(e.mxu_cycles_per_step == Approx(2430));
  CHECK(e.bound == "compute");
  const double dma = 1048576 / 1e12, out = 512 * 512 * 2 / 1e12;
  CHECK(e.latency_s == Approx(1e-9 + dma + 8 * 2430e-9 + out).epsilon(1e-6));
  CHECK_THROWS_WITH(estimate_tpu_gemm(hw, 1000, 1024, 1024, o), Catch::Matchers::Contains("must divide M, N and K"));
}

// Tests for the functional path (sim/functional): the tiled kernel execution agrees
// with the float64 reference for every registered pattern, in fp32 and bf16, on odd
// sizes, chunked prefill, GQA/MQA and split-KV decode; empty rows are zeros; the check
// fails when a mask drops a block the pattern allows; sampled checks, cost and memory
// guards, external expected outputs, and determinism across runs and thread counts.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/functional/check.h"
#include "sim/functional/inputs.h"
#include "sim/io/npy.h"
#include "sim/session/session.h"

using namespace attnsim;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const HwSpec& h100() {
  static const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  return hw;
}

const fs::path kFlexFixture = fs::path(ATTNSIM_TEST_DIR) / "fixtures" / "npz" / "flex_blockmask_small.npz";

struct ScratchDir {
  fs::path path;
  ScratchDir() {
    path = fs::temp_directory_path() / ("attnsim_functional_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A workload YAML built in code.
std::string workload_yaml(int64_t batch, int64_t q_heads, int64_t kv_heads, int64_t d, const std::string& phase,
                          int64_t q_len, int64_t kv_len, const std::string& dtype, uint64_t seed,
                          const std::string& pattern) {
  return "name: functional\nbatch: " + std::to_string(batch) + "\nq_heads: " + std::to_string(q_heads) +
         "\nkv_heads: " + std::to_string(kv_heads) + "\nhead_dim: " + std::to_string(d) + "\nphase: " + phase +
         "\nq_len: " + std::to_string(q_len) + "\nkv_len: " + std::to_string(kv_len) + "\ndtype: " + dtype +
         "\nseed: " + std::to_string(seed) + "\npattern: " + pattern + "\n";
}

Session session_for(const std::string& yaml, const std::string& kernel) {
  return prepare_session(h100(), parse_workload(load_yaml_string(yaml, "functional.yaml"), "functional.yaml"), kernel);
}

CheckResult check(const Session& ses, Precision p, int threads = 2, int64_t sample_rows = 0) {
  CheckOptions o;
  o.precision = p;
  o.threads = threads;
  o.sample_rows = sample_rows;
  o.seed = ses.workload.seed;
  return run_check(*ses.trace, *ses.pattern, *ses.inputs, o);
}

// Pattern parameters for the small test shapes (kv_len ~ 300-700). A pattern added to
// the registry without an entry here is tried with its defaults.
const std::map<std::string, std::string>& pattern_params() {
  static const std::map<std::string, std::string> p = {
      {"dense", ""},
      {"causal", ""},
      {"sliding_window", ", window_tokens: 64"},
      {"dilated", ", window_tokens: 96, dilation: 3"},
      {"local_global", ", window_tokens: 64, global_tokens: 16"},
      {"strided", ", stride_tokens: 48"},
      {"fixed", ", stride_tokens: 64, summary_tokens: 8"},
      {"bigbird", ", block_tokens: 32, window_blocks: 3, global_blocks: 1, random_blocks: 2"},
      {"block_diagonal", ", doc_lengths_tokens: [100, 57, 200]"},
      {"random_block", ", density: 0.4, block_tokens: 64, include_diagonal: false"},
      {"relu", ""},
      {"topk", ", k: 16"},
      {"clustered_topk", ", density: 0.1, cluster_tokens: 4, causal: true"},
  };
  return p;
}

struct Shape {
  const char* what;
  int64_t batch, q_heads, kv_heads, d;
  const char* phase;
  int64_t q_len, kv_len;
  const char* kernel;
};

// Odd sizes (not multiples of any block size), GQA, MQA, chunked prefill, split-KV decode.
const Shape kShapes[] = {
    {"prefill 333, GQA 4/2, fa3 (dense kernel, contiguous cover)", 1, 4, 2, 40, "prefill", 333, 333, "fa3"},
    {"prefill 333, batch 2, flex (block-sparse kernel)", 2, 2, 2, 24, "prefill", 333, 333, "flex"},
    {"chunked prefill q 200 < kv 333, MQA 3/1, fa2", 1, 3, 1, 72, "prefill", 200, 333, "fa2"},
    {"decode, GQA 8/2, flash_decoding (packed, split KV)", 1, 8, 2, 64, "decode", 1, 700, "flash_decoding"},
    {"speculative decode q 3, MQA 4/1, flash_decoding", 2, 4, 1, 32, "decode", 3, 515, "flash_decoding"},
};

}  // namespace

TEST_CASE("functional check passes for every registered pattern, both precisions", "[functional]") {
  uint64_t seed = 100;
  int checked = 0;
  for (const std::string& name : PatternRegistry::instance().names()) {
    if (name == "file") continue;  // needs a file of fixed shape: its own test case below
    const auto it = pattern_params().find(name);
    const std::string pattern = "{name: " + name + (it == pattern_params().end() ? "" : it->second) + "}";
    for (const Shape& sh : kShapes) {
      for (const Precision p : {Precision::fp32, Precision::bf16}) {
        const std::string dtype = p == Precision::fp32 ? "fp32" : "bf16";
        INFO(name << " | " << sh.what << " | " << dtype);
        Session ses;
        try {
          ses = session_for(workload_yaml(sh.batch, sh.q_heads, sh.kv_heads, sh.d, sh.phase, sh.q_len, sh.kv_len,
                                          dtype, ++seed, pattern),
                            sh.kernel);
        } catch (const Error& e) {
          FAIL("the session for pattern '" << name << "' could not be built: " << e.what()
                                             << " (a new pattern needs its parameters in pattern_params() in "
                                             << __FILE__ << ")");
        }
        const CheckResult r = check(ses, p);
        CHECK(r.rows_checked == sh.batch * sh.q_heads * sh.q_len);
        CHECK_FALSE(r.sampled);
        CHECK(r.tolerance == (p == Precision::fp32 ? 1e-5 : 1e-2));
        CHECK(r.rel_error < r.tolerance);
        CHECK(r.pass);
        CHECK(std::isfinite(r.max_abs_error));
        CHECK(r.expected_rel_error == -1);
        ++checked;
      }
    }
  }
  CHECK(checked >= 2 * 5 * 12);
}

TEST_CASE("functional check: the file pattern (FlexAttention BlockMask fixture)", "[functional]") {
  if (!fs::exists(kFlexFixture)) {
    WARN("fixture " << kFlexFixture << " missing; file pattern not checked");
    return;
  }
  const std::string pattern = "{name: file, path: '" + kFlexFixture.string() + "'}";
  for (const char* kernel : {"flex", "fa3"}) {  // the file's own 128x128 blocks, and 192x128 re-binned
    for (const Precision p : {Precision::fp32, Precision::bf16}) {
      INFO(kernel << (p == Precision::fp32 ? " fp32" : " bf16"));
      const Session ses =
          session_for(workload_yaml(1, 2, 1, 64, "prefill", 512, 512, p == Precision::fp32 ? "fp32" : "bf16", 3, pattern),
                      kernel);
      const CheckResult r = check(ses, p);
      CHECK(r.rows_checked == 2 * 512);
      CHECK(r.empty_rows == 0);
      CHECK(r.rel_error < r.tolerance);
    }
  }
}

TEST_CASE("functional check: rows with no allowed key are zeros", "[functional]") {
  // Element mask [300, 300]: k <= q and (q + k) % 3 != 0, except rows 10..20 (empty rows
  // inside a computed query block: their partial blocks are masked out entirely) and rows
  // 256..299 (a whole query block without any block to visit).
  ScratchDir dir;
  const int64_t n = 300;
  io::NpyArray a;
  a.kind = 'b';
  a.item_bytes = 1;
  a.shape = {n, n};
  a.data.assign(static_cast<size_t>(n * n), 0);
  int64_t empty = 0;
  for (int64_t q = 0; q < n; ++q) {
    const bool row_empty = (q >= 10 && q <= 20) || q >= 256;
    empty += row_empty;
    for (int64_t k = 0; k <= q && !row_empty; ++k) a.data[static_cast<size_t>(q * n + k)] = (q + k) % 3 != 0;
  }
  // Row 0 would be empty too ((0 + 0) % 3 == 0): count it.
  empty += 1;
  const fs::path file = dir.path / "holes.npy";
  io::write_npy(file.string(), a);
  const std::string pattern = "{name: file, path: '" + file.string() + "'}";
  for (const char* kernel : {"flex", "fa3"}) {
    for (const Precision p : {Precision::fp32, Precision::bf16}) {
      INFO(kernel << (p == Precision::fp32 ? " fp32" : " bf16"));
      const Session ses = session_for(
          workload_yaml(1, 2, 1, 32, "prefill", n, n, p == Precision::fp32 ? "fp32" : "bf16", 8, pattern), kernel);
      // With 128-row query blocks the last one (rows 256..299) has no block at all.
      if (ses.trace->tiling().q_block == 128) CHECK(compute_stats(*ses.mask).empty_rows > 0);
      const CheckResult r = check(ses, p);
      CHECK(r.empty_rows == 2 * empty);
      CHECK(r.rows_checked == 2 * n);
      CHECK(r.rel_error < r.tolerance);
    }
  }
  // With no allowed key anywhere, every output row must be exactly zero: the error
  // against the (all-zero) reference is then 0, not merely small.
  std::fill(a.data.begin(), a.data.end(), uint8_t{0});
  const fs::path none = dir.path / "none.npy";
  io::write_npy(none.string(), a);
  const Session ses = session_for(
      workload_yaml(1, 2, 1, 32, "prefill", n, n, "bf16", 8, "{name: file, path: '" + none.string() + "'}"), "flex");
  for (const Precision p : {Precision::fp32, Precision::bf16}) {
    const CheckResult r = check(ses, p);
    CHECK(r.empty_rows == 2 * n);
    CHECK(r.rel_error == 0);
    CHECK(r.max_abs_error == 0);
    CHECK(r.pass);
  }
}

namespace {

// A pattern whose element truth is dense but whose block mask drops KV block 0 of
// every row: the kernel then never sees those keys, so the check must fail.
class DropsFirstBlock final : public ISparsityPattern {
 public:
  explicit DropsFirstBlock(int64_t kv_len) : kv_len_(kv_len) {}
  void row_intervals(int64_t, int64_t, int64_t, std::vector<Interval>& out) const override {
    out.push_back({0, kv_len_});
  }
  BlockMask block_mask(const BlockGeometry& g) const override {
    const BlockMask exact = classify_blocks(*this, g);
    BlockMask m(g, exact.mask_batch(), exact.mask_heads());
    for (int64_t r = 0; r < exact.rows(); ++r) {
      const BlockRow row = exact.row(r);
      for (uint32_t i = 0; i < row.size; ++i) {
        if (row.kv_block[i] != 0) m.append(row.kv_block[i], row.partial[i] != 0);
      }
      m.end_row();
    }
    return m;
  }
  std::string describe() const override { return "drops_first_block"; }

 private:
  int64_t kv_len_;
};

}  // namespace

TEST_CASE("functional check fails when the mask omits a block the pattern allows", "[functional]") {
  const Workload w = parse_workload(
      load_yaml_string(workload_yaml(1, 2, 2, 32, "prefill", 300, 300, "bf16", 4, "{name: dense}"), "w.yaml"),
      "w.yaml");
  const DropsFirstBlock wrong(w.shape.kv_len);
  const RandomInputs inputs(w.shape, 4);
  for (const char* name : {"flex", "fa3"}) {
    const auto kernel = make_kernel(name);
    auto mask = std::make_shared<const BlockMask>(wrong.block_mask(kernel->block_geometry(w.shape)));
    const Trace trace = kernel->make_trace(w.shape, mask, h100());
    for (const Precision p : {Precision::fp32, Precision::bf16}) {
      INFO(name << (p == Precision::fp32 ? " fp32" : " bf16"));
      CheckOptions o;
      o.precision = p;
      o.threads = 2;
      const CheckResult r = run_check(trace, wrong, inputs, o);
      CHECK_FALSE(r.pass);
      CHECK(r.rel_error > 10 * tolerance_for(Precision::bf16));
    }
  }
  // The same trace with the honest dense pattern passes: the failure is the mask's.
  const auto dense = make_pattern(w.pattern, PatternContext{w.shape, 4, "", nullptr}, "w.yaml");
  const auto kernel = make_kernel("flex");
  auto mask = std::make_shared<const BlockMask>(dense->block_mask(kernel->block_geometry(w.shape)));
  CheckOptions o;
  o.precision = Precision::bf16;
  CHECK(run_check(kernel->make_trace(w.shape, mask, h100()), *dense, inputs, o).pass);
}

TEST_CASE("functional check: external expected output is compared with the reference", "[functional]") {
  // Dense attention in float64, written out in the [B, Hq, q_len, d] layout.
  const int64_t B = 2, H = 2, Hkv = 1, S = 70, d = 16;
  const Session ses = session_for(workload_yaml(B, H, Hkv, d, "prefill", S, S, "fp32", 12, "{name: dense}"), "flex");
  std::vector<float> expected(static_cast<size_t>(B * H * S * d));
  std::vector<float> q(static_cast<size_t>(d)), k(static_cast<size_t>(d)), v(static_cast<size_t>(d));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < S; ++i) {
        ses.inputs->row(Tensor::q, b, h, i, q.data());
        std::vector<double> w(static_cast<size_t>(S)), out(static_cast<size_t>(d), 0.0);
        double m = -1e300, l = 0;
        for (int64_t j = 0; j < S; ++j) {
          ses.inputs->row(Tensor::k, b, h / (H / Hkv), j, k.data());
          double dot = 0;
          for (int64_t x = 0; x < d; ++x) dot += static_cast<double>(q[x]) * k[x];
          w[j] = dot / std::sqrt(static_cast<double>(d));
          m = std::max(m, w[j]);
        }
        for (int64_t j = 0; j < S; ++j) {
          ses.inputs->row(Tensor::v, b, h / (H / Hkv), j, v.data());
          const double e = std::exp(w[j] - m);
          l += e;
          for (int64_t x = 0; x < d; ++x) out[x] += e * v[x];
        }
        for (int64_t x = 0; x < d; ++x) expected[static_cast<size_t>(((b * H + h) * S + i) * d + x)] = out[x] / l;
      }
    }
  }
  CheckOptions o;
  o.precision = Precision::fp32;
  o.expected = &expected;
  const CheckResult good = run_check(*ses.trace, *ses.pattern, *ses.inputs, o);
  CHECK(good.pass);
  CHECK(good.expected_rel_error >= 0);
  CHECK(good.expected_rel_error < 1e-6);  // only float rounding of the stored values
  CHECK(good.expected_max_abs_error < 1e-5);
  // An output of the wrong size is refused, not read out of bounds.
  std::vector<float> short_output(expected.begin(), expected.end() - 1);
  o.expected = &short_output;
  CHECK_THROWS_WITH(run_check(*ses.trace, *ses.pattern, *ses.inputs, o),
                    Contains("external output has 4479 values; the workload needs 4480"));
  o.expected = &expected;
  // One wrong element in the last (batch, head) is found.
  expected.back() += 0.5f;
  const CheckResult bad = run_check(*ses.trace, *ses.pattern, *ses.inputs, o);
  CHECK(bad.pass);  // the simulator's own kernel is still right
  CHECK(bad.expected_max_abs_error == Approx(0.5).epsilon(1e-4));
  CHECK(bad.expected_rel_error > 1e-3);
}

TEST_CASE("functional check: sampled check at 8k tokens and the full-check cost limit", "[functional]") {
  const Session ses = session_for(workload_yaml(1, 4, 4, 128, "prefill", 8192, 8192, "bf16", 21, "{name: dense}"), "fa3");
  const double macs = full_check_macs(*ses.trace);
  CHECK(macs == Approx(2.0 * 4 * 8192.0 * 8192.0 * 128));
  CheckOptions full;
  full.precision = Precision::bf16;
  REQUIRE(macs > full.max_full_check_macs);
  CHECK_THROWS_WITH(run_check(*ses.trace, *ses.pattern, *ses.inputs, full),
                    Contains("full functional check") && Contains("--sample-rows"));
  const CheckResult r = check(ses, Precision::bf16, 2, 48);
  CHECK(r.sampled);
  CHECK(r.rows_checked > 0);
  CHECK(r.rows_checked <= 48);
  CHECK(r.pass);
  const CheckResult f = check(ses, Precision::fp32, 2, 16);
  CHECK(f.sampled);
  CHECK(f.rel_error < 1e-5);
  // A causal 8k case, sampled, with the decode-style split kernel on a long KV cache.
  const Session dec =
      session_for(workload_yaml(1, 8, 2, 128, "decode", 1, 8192, "bf16", 22, "{name: sliding_window, window_tokens: 3000}"),
                  "flash_decoding");
  CHECK(check(dec, Precision::bf16, 2, 8).pass);
}

TEST_CASE("functional check: memory guard", "[functional]") {
  const Session ses = session_for(workload_yaml(1, 1, 1, 64, "prefill", 256, 256, "bf16", 2, "{name: causal}"), "flex");
  CheckOptions o;
  o.max_memory_bytes = 1e5;  // K/V of one head here: 4 x 256 x 64 x 4 B = 262 KB
  CHECK_THROWS_WITH(run_check(*ses.trace, *ses.pattern, *ses.inputs, o),
                    Contains("needs 262 KB for one head's K/V") && Contains("reduce kv_len or head_dim"));
  o.max_memory_bytes = 262144;  // exactly the K/V: a sampled check fits, a full one needs its row state too
  o.sample_rows = 8;
  CHECK_NOTHROW(require_check_fits(*ses.trace, o));
  o.sample_rows = 0;
  CHECK_THROWS_WITH(require_check_fits(*ses.trace, o),
                    Contains("a full functional check of 256 rows needs") && Contains("use the sampled check"));
  // The time budget refuses up front too, naming both ways out.
  o.max_memory_bytes = 1e9;
  o.max_seconds = 1e-9;
  CHECK_THROWS_WITH(require_check_fits(*ses.trace, o),
                    Contains("the functional check would take") && Contains("--max-time"));
}

TEST_CASE("functional check is deterministic across runs and thread counts", "[functional]") {
  const std::string yaml = workload_yaml(2, 4, 2, 32, "prefill", 257, 257, "bf16", 31,
                                         "{name: bigbird, block_tokens: 32, window_blocks: 3, global_blocks: 1, "
                                         "random_blocks: 2}");
  const Session a = session_for(yaml, "flex");
  const Session b = session_for(yaml, "flex");
  const CheckResult ra = check(a, Precision::bf16, 1);
  const CheckResult rb = check(b, Precision::bf16, 1);
  const CheckResult rc = check(b, Precision::bf16, 3);
  const CheckResult rd = check(b, Precision::bf16, 7);
  // Bitwise: the same seed gives the same mask, inputs and sums in the same order.
  CHECK(compute_stats(*a.mask).allowed_pairs == compute_stats(*b.mask).allowed_pairs);
  CHECK(ra.rel_error == rb.rel_error);
  CHECK(ra.max_abs_error == rb.max_abs_error);
  CHECK(rb.rel_error == rc.rel_error);
  CHECK(rb.rel_error == rd.rel_error);
  CHECK(rb.max_abs_error == rd.max_abs_error);
  // Sampled rows are chosen by the seed, not by the threads.
  CHECK(check(b, Precision::bf16, 1, 20).rel_error == check(b, Precision::bf16, 4, 20).rel_error);
  // A different seed really changes the inputs (so equality above is not vacuous).
  const Session c = session_for(workload_yaml(2, 4, 2, 32, "prefill", 257, 257, "bf16", 32,
                                              "{name: bigbird, block_tokens: 32, window_blocks: 3, global_blocks: 1, "
                                              "random_blocks: 2}"),
                                "flex");
  CHECK(check(c, Precision::bf16, 1).rel_error != ra.rel_error);
}

TEST_CASE("bf16 rounding is round-to-nearest-even", "[functional]") {
  CHECK(round_bf16(1.0f) == 1.0f);
  CHECK(round_bf16(1.0f + 1.0f / 256) == 1.0f);               // halfway: ties to even (down)
  CHECK(round_bf16(1.0f + 3.0f / 256) == 1.0f + 4.0f / 256);  // halfway: ties to even (up)
  CHECK(round_bf16(1.0f + 1.5f / 256) == 1.0f + 2.0f / 256);  // above halfway: up
  CHECK(round_bf16(-3.0f) == -3.0f);
  CHECK(std::isnan(round_bf16(std::nanf(""))));
  CHECK(std::isinf(round_bf16(INFINITY)));
}

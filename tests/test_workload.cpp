// Tests for workload files (sim/workload): the shipped workloads and kernel configs
// load, defaults are the documented ones, and every class of bad workload is refused
// with a message naming the file, the key and the reason.
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <string>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/session/session.h"
#include "sim/workload/workload.h"

using namespace attnsim;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const fs::path kRepo = fs::path(ATTNSIM_TEST_DIR).parent_path();

Workload wl(const std::string& yaml) { return parse_workload(load_yaml_string(yaml, "w.yaml"), "w.yaml"); }

std::string wl_error(const std::string& yaml) {
  try {
    wl(yaml);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

const char* kBase = "name: t\nbatch: 2\nq_heads: 8\nkv_heads: 2\nhead_dim: 64\nphase: prefill\nkv_len: 1024\n";

}  // namespace

TEST_CASE("shipped workloads load and prepare a session", "[workload]") {
  int count = 0;
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  for (const auto& e : fs::directory_iterator(kRepo / "workloads")) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path().string());
    ++count;
    Workload w;
    REQUIRE_NOTHROW(w = load_workload(e.path().string()));
    CHECK(w.name == e.path().stem().string());
    CHECK(w.pattern.IsMap());
    Session ses = prepare_session(hw, w, "");
    CHECK(ses.trace->units().size() > 0);
  }
  CHECK(count >= 1);
}

TEST_CASE("shipped kernel configs load", "[workload]") {
  const auto files = list_kernel_configs();
  REQUIRE(files.size() >= 4);
  for (const auto& f : files) {
    INFO(f);
    KernelSpec k;
    REQUIRE_NOTHROW(k = load_kernel_spec(f));
    CHECK(k.name == fs::path(f).stem().string());
    CHECK(!k.tiles.empty());
    CHECK(!k.phases.empty());
    CHECK(KernelRegistry::instance().contains(k.impl));
  }
}

TEST_CASE("workload defaults", "[workload]") {
  SECTION("prefill: kv_heads = q_heads, q_len = kv_len, bf16, seed 1, dense pattern") {
    const Workload w = wl("name: t\nbatch: 1\nq_heads: 4\nhead_dim: 32\nphase: prefill\nkv_len: 100\n");
    CHECK(w.shape.kv_heads == 4);
    CHECK(w.shape.q_len == 100);
    CHECK(w.shape.q_offset() == 0);
    CHECK(w.shape.dtype == Dtype::bf16);
    CHECK(w.seed == 1);
    CHECK(w.kernel.empty());
    REQUIRE(w.pattern.IsMap());
    CHECK(w.pattern["name"].as<std::string>() == "dense");
  }
  SECTION("decode: q_len = 1") {
    const Workload w = wl("name: t\nbatch: 1\nq_heads: 4\nkv_heads: 1\nhead_dim: 32\nphase: decode\nkv_len: 100\n");
    CHECK(w.shape.phase == Phase::decode);
    CHECK(w.shape.q_len == 1);
    CHECK(w.shape.q_offset() == 99);
    CHECK(w.shape.group_size() == 4);
  }
  SECTION("explicit values and byte sizes") {
    const Workload w = wl(std::string(kBase) + "q_len: 256\ndtype: fp32\nseed: 9\nkernel: flex\n"
                                               "description: free text\npattern: {name: causal}\n");
    CHECK(w.shape.q_len == 256);
    CHECK(w.shape.dtype == Dtype::fp32);
    CHECK(w.seed == 9);
    CHECK(w.kernel == "flex");
    CHECK(w.pattern["name"].as<std::string>() == "causal");
    CHECK(w.shape.q_bytes() == 2.0 * 8 * 256 * 64 * 4);
    CHECK(w.shape.kv_bytes() == 2.0 * 2 * 2 * 1024 * 64 * 4);
    CHECK(w.shape.out_bytes() == w.shape.q_bytes());
    CHECK(resident_bytes(w.shape) == w.shape.q_bytes() * 2 + w.shape.kv_bytes());
  }
  SECTION("a workload without a pattern builds a dense mask") {
    const Workload w = wl("name: t\nbatch: 1\nq_heads: 1\nhead_dim: 16\nphase: prefill\nkv_len: 300\n");
    PatternContext ctx;
    ctx.shape = w.shape;
    const auto p = make_pattern(w.pattern, ctx, "w.yaml");
    CHECK(p->describe() == "dense");
    const BlockMask m = p->block_mask({1, 1, 300, 300, 0, 128, 128});
    const MaskStats st = compute_stats(m);
    CHECK(st.skipped_blocks == 0);
    CHECK(st.allowed_pairs == 300.0 * 300.0);
  }
}

TEST_CASE("bad workloads are refused with clear messages", "[workload]") {
  SECTION("kv_heads must divide q_heads") {
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: 8\nkv_heads: 3\nhead_dim: 64\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: kv_heads (3) must divide q_heads (8)"));
  }
  SECTION("q_len may not exceed kv_len") {
    CHECK_THAT(wl_error(std::string(kBase) + "q_len: 2048\n"), Contains("w.yaml: q_len (2048) exceeds kv_len (1024)"));
  }
  SECTION("decode with a long query") {
    CHECK_THAT(
        wl_error("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 64\nphase: decode\nkv_len: 4096\nq_len: 512\n"),
        Contains("w.yaml: phase decode with q_len 512") && Contains("use phase: prefill"));
    // A few speculative tokens are fine.
    CHECK_NOTHROW(wl("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 64\nphase: decode\nkv_len: 4096\nq_len: 4\n"));
  }
  SECTION("unknown dtype, with a suggestion") {
    CHECK_THAT(wl_error(std::string(kBase) + "dtype: bf61\n"),
               Contains("w.yaml: dtype: unknown value 'bf61'") && Contains("did you mean 'bf16'?") &&
                   Contains("fp32"));
  }
  SECTION("negative and zero sizes") {
    CHECK_THAT(wl_error("name: t\nbatch: -1\nq_heads: 8\nhead_dim: 64\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: batch: value -1 is out of range"));
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 64\nphase: prefill\nkv_len: -64\n"),
               Contains("w.yaml: kv_len: value -64 is out of range"));
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 0\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: head_dim: value 0 is out of range"));
    CHECK_THAT(wl_error(std::string(kBase) + "q_len: 0\n"), Contains("w.yaml: q_len: value 0 is out of range"));
    CHECK_THAT(wl_error(std::string(kBase) + "seed: -3\n"), Contains("w.yaml: seed: value -3 is out of range"));
  }
  SECTION("unknown top-level key, with a suggestion") {
    CHECK_THAT(wl_error(std::string(kBase) + "q_head: 8\n"),
               Contains("w.yaml: unknown key 'q_head'") && Contains("did you mean 'q_heads'?"));
    CHECK_THAT(wl_error(std::string(kBase) + "patern: {name: causal}\n"),
               Contains("unknown key 'patern'") && Contains("did you mean 'pattern'?"));
  }
  SECTION("missing keys and wrong types") {
    CHECK_THAT(wl_error("batch: 1\nq_heads: 8\nhead_dim: 64\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: name: missing required key"));
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 64\nkv_len: 64\n"),
               Contains("w.yaml: phase: missing required key"));
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: 8\nhead_dim: 64\nphase: prefil\nkv_len: 64\n"),
               Contains("w.yaml: phase: unknown value 'prefil'") && Contains("did you mean 'prefill'?"));
    CHECK_THAT(wl_error("name: t\nbatch: one\nq_heads: 8\nhead_dim: 64\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: batch: expected an integer, got 'one'"));
    CHECK_THAT(wl_error("name: t\nbatch: 1\nq_heads: [8]\nhead_dim: 64\nphase: prefill\nkv_len: 64\n"),
               Contains("w.yaml: q_heads: expected an integer"));
    CHECK_THAT(wl_error(std::string(kBase) + "pattern: causal\n"),
               Contains("w.yaml: pattern: expected a mapping like '{name: causal}'"));
    CHECK_THAT(wl_error("- 1\n- 2\n"), Contains("w.yaml: expected a mapping"));
  }
  SECTION("unknown pattern names and parameters fail when the pattern is built") {
    const Workload w = wl(std::string(kBase) + "pattern: {name: casual}\n");
    PatternContext ctx;
    ctx.shape = w.shape;
    try {
      make_pattern(w.pattern, ctx, "w.yaml");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Contains("w.yaml: pattern: name:") && Contains("unknown patterns 'casual'") &&
                               Contains("did you mean 'causal'?"));
    }
    const Workload w2 = wl(std::string(kBase) + "pattern: {name: sliding_window, window: 64}\n");
    try {
      make_pattern(w2.pattern, ctx, "w.yaml");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Contains("w.yaml: pattern: ") && Contains("window_tokens"));
    }
  }
  SECTION("a workload that does not fit in device memory says how much it needs") {
    const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
    const Workload w = wl("name: huge\nbatch: 4096\nq_heads: 32\nkv_heads: 8\nhead_dim: 128\nphase: prefill\n"
                          "kv_len: 131072\n");
    try {
      prepare_session(hw, w, "");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Contains("w.yaml: this layer needs") && Contains(format_bytes(resident_bytes(w.shape))) &&
                               Contains("H100-SXM has 80 GB"));
    }
  }
  SECTION("a kernel that does not run this phase, an unknown kernel") {
    const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
    const Workload dec = wl("name: t\nbatch: 1\nq_heads: 4\nhead_dim: 64\nphase: decode\nkv_len: 512\n");
    CHECK_THROWS_WITH(prepare_session(hw, dec, "fa3"), Contains("kernel 'fa3' does not run decode"));
    CHECK_THROWS_WITH(prepare_session(hw, dec, "fa33"),
                      Contains("unknown kernel 'fa33'") && Contains("did you mean 'fa3'?"));
  }
}

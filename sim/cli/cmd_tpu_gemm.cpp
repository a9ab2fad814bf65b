// `attnsim tpu-gemm`: latency of a dense GEMM on a TPU config as a Pallas blocked matmul
// (models/tpu/tpu_gemm.h), beside the chip's peak-derived bounds (docs/tpu-model.md).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/tpu/tpu_gemm.h"
#include "sim/cli/command.h"
#include "sim/core/error.h"

namespace attnsim {
namespace cmd_tpu_gemm {

void parse_triple(const std::string& flag, const std::string& text, int64_t* a, int64_t* b, int64_t* c) {
  std::stringstream ss(text);
  std::string part;
  int64_t* out[] = {a, b, c};
  int i = 0;
  while (std::getline(ss, part, ',')) {
    size_t used = 0;
    try {
      if (i < 3) *out[i] = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (i >= 3 || used == 0 || used != part.size()) {
      throw Error(flag + " '" + text + "': expected three integers separated by commas, e.g. " + flag + " 512,512,512");
    }
    ++i;
  }
  if (i != 3) throw Error(flag + " '" + text + "': expected three integers separated by commas, e.g. " + flag + " 512,512,512");
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("tpu-gemm", "latency of a dense GEMM on a TPU config (Pallas blocked matmul)");
  auto hw = std::make_shared<std::string>(), gemm = std::make_shared<std::string>();
  auto tile = std::make_shared<std::string>("512,512,512");
  auto dtype = std::make_shared<std::string>("bf16");
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--hw", *hw, "TPU hardware config name or path")->required();
  cmd->add_option("--gemm", *gemm, "M,N,K")->required();
  cmd->add_option("--tile", *tile, "Pallas block sizes bm,bn,bk")->capture_default_str();
  cmd->add_option("--dtype", *dtype, "bf16 | int8")->capture_default_str();
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([=] {
    const HwSpec spec = load_hw_spec(resolve_hw_path(*hw));
    if (spec.arch != "tpu") throw Error(spec.name + " is arch '" + spec.arch + "'; tpu-gemm needs a TPU config");
    int64_t m = 0, n = 0, k = 0;
    parse_triple("--gemm", *gemm, &m, &n, &k);
    TpuGemmOptions o;
    parse_triple("--tile", *tile, &o.bm, &o.bn, &o.bk);
    o.dtype = parse_dtype(*dtype);
    const TpuGemmEstimate e = estimate_tpu_gemm(spec, m, n, k, o);
    const nlohmann::ordered_json j = {
        {"hardware", spec.name}, {"m", m}, {"n", n}, {"k", k}, {"bm", o.bm}, {"bn", o.bn}, {"bk", o.bk},
        {"tensorcores_used", e.cores_used}, {"steps_per_core", e.steps_per_core},
        {"mxu_cycles_per_step", e.mxu_cycles_per_step}, {"vpu_cycles_per_step", e.vpu_cycles_per_step},
        {"compute_s_per_step", e.compute_s_per_step}, {"dma_s_per_step", e.dma_s_per_step}, {"bound", e.bound},
        {"latency_s", e.latency_s}, {"achieved_tflops", e.flops / e.latency_s / 1e12},
        {"peak_tflops", e.peak_flops_per_s / 1e12}, {"fraction_of_peak", e.compute_bound_s / e.latency_s},
        {"compute_bound_s", e.compute_bound_s}, {"memory_bound_s", e.memory_bound_s}, {"hbm_bytes", e.hbm_bytes}};
    if (*json) {
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    for (const auto& [key, v] : j.items()) std::printf("  %-22s %s\n", key.c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  });
}

const Registrar<CommandEntry> kRegister("tpu-gemm", CommandEntry{setup});

}  // namespace cmd_tpu_gemm
}  // namespace attnsim

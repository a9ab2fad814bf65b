// `attnsim mxu`: compute cycles of one GEMM on a systolic array, for direct comparison
// with SCALE-Sim (docs/tpu-model.md).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/tpu/mxu.h"
#include "sim/cli/command.h"
#include "sim/core/error.h"

namespace attnsim {
namespace cmd_mxu {

MxuGemm parse_gemm(const std::string& text) {
  MxuGemm g;
  std::stringstream ss(text);
  std::string part;
  int64_t* dims[] = {&g.m, &g.n, &g.k};
  int i = 0;
  while (std::getline(ss, part, ',')) {
    if (i == 3) break;
    try {
      size_t used = 0;
      *dims[i] = std::stoll(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
    } catch (const std::exception&) {
      throw Error("--gemm '" + text + "': '" + part + "' is not an integer; write M,N,K, e.g. --gemm 1024,1024,128");
    }
    ++i;
  }
  if (i != 3 || std::getline(ss, part, ',')) {
    throw Error("--gemm '" + text + "': expected three sizes M,N,K, e.g. --gemm 1024,1024,128");
  }
  return g;
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("mxu", "compute cycles of a GEMM C[MxN] = A[MxK] B[KxN] on an R x C systolic array");
  auto rows = std::make_shared<int64_t>(128), cols = std::make_shared<int64_t>(128);
  auto dataflow = std::make_shared<std::string>("ws");
  auto gemm = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--rows", *rows, "array rows R")->capture_default_str();
  cmd->add_option("--cols", *cols, "array columns C")->capture_default_str();
  cmd->add_option("--dataflow", *dataflow, "os | ws | is")->capture_default_str();
  cmd->add_option("--gemm", *gemm, "M,N,K")->required();
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([=] {
    MxuGemm g = parse_gemm(*gemm);
    g.rows = *rows;
    g.cols = *cols;
    g.dataflow = parse_dataflow(*dataflow);
    const MxuCycles c = mxu_gemm_cycles(g);
    if (*json) {
      const nlohmann::ordered_json j = {
          {"rows", g.rows}, {"cols", g.cols}, {"dataflow", dataflow_name(g.dataflow)}, {"m", g.m}, {"n", g.n},
          {"k", g.k}, {"spatial_rows", c.spatial_rows}, {"spatial_cols", c.spatial_cols}, {"temporal", c.temporal},
          {"folds", c.folds}, {"cycles_per_fold", c.cycles_per_fold}, {"compute_cycles", c.compute_cycles},
          {"scalesim_total_cycles", c.scalesim_total_cycles}, {"mapping_efficiency", c.mapping_efficiency}, {"utilization", c.utilization}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("array %lldx%lld, %s, GEMM M=%lld N=%lld K=%lld\n", static_cast<long long>(g.rows),
                static_cast<long long>(g.cols), dataflow_name(g.dataflow).c_str(), static_cast<long long>(g.m),
                static_cast<long long>(g.n), static_cast<long long>(g.k));
    std::printf("  mapping            Sr=%lld Sc=%lld T=%lld\n", static_cast<long long>(c.spatial_rows),
                static_cast<long long>(c.spatial_cols), static_cast<long long>(c.temporal));
    std::printf("  folds              %lld (%lld x %lld), %lld cycles each\n", static_cast<long long>(c.folds),
                static_cast<long long>(c.row_folds), static_cast<long long>(c.col_folds),
                static_cast<long long>(c.cycles_per_fold));
    std::printf("  compute_cycles     %lld\n", static_cast<long long>(c.compute_cycles));
    std::printf("  SCALE-Sim reports  %lld (its Total Cycles: the last cycle, counted from 0)\n",
                static_cast<long long>(c.scalesim_total_cycles));
    std::printf("  mapping_efficiency %.4f\n  utilization        %.4f\n", c.mapping_efficiency, c.utilization);
  });
}

const Registrar<CommandEntry> kRegister("mxu", CommandEntry{setup});

}  // namespace cmd_mxu
}  // namespace attnsim

// A sweep file (`attnsim sweep FILE`): one base hardware config, workload and
// kernel, and the points to run, given as a grid (every combination of the axes)
// or a list. Parameters are dotted paths into the hardware config (`hw.`) or the
// workload (`workload.`), or `kernel`. Values are YAML, checked by the same parsers
// as the files they replace. Schema: docs/sparsecore.md ("attnsim sweep").
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnsim {

struct SweepAssignment {
  std::string path;   // "hw.sparsecore.gather_bandwidth", "workload.kv_len", "kernel"
  YAML::Node value;
  std::string text;   // the value as written, for the CSV
};

struct SweepPlot {
  std::string x;       // parameter on the x axis ("" = the first swept parameter)
  bool log_x = false;
  bool log_y = false;
};

struct SweepSpec {
  std::string name;
  std::string source_path;
  std::string hw;            // resolved path of the base hardware config
  std::string workload;      // resolved path of the base workload
  std::string kernel;        // "" = the workload's or the hardware's default
  std::vector<std::string> baselines;  // software kernels; the fastest is the speedup reference
  std::vector<std::string> parameters;  // swept paths, in column order
  std::vector<std::vector<SweepAssignment>> points;
  SweepPlot plot;
};

inline constexpr int64_t kMaxSweepPoints = 100000;

SweepSpec load_sweep(const std::string& path);

// The base YAML of one point with its assignments applied; errors name the point.
YAML::Node point_hw_yaml(const SweepSpec& spec, size_t point);
YAML::Node point_workload_yaml(const SweepSpec& spec, size_t point);
std::string point_kernel(const SweepSpec& spec, size_t point);
std::string describe_point(const SweepSpec& spec, size_t point);  // "kv_len=8192, ..."

}  // namespace attnsim

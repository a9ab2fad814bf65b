#include "sim/sweep/sweep_point.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "sim/core/error.h"
#include "sim/hw/hw_spec.h"
#include "sim/report/report.h"
#include "sim/session/session.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

std::string where(const SweepSpec& spec, size_t point) {
  return spec.source_path + ": point " + std::to_string(point) + " (" + describe_point(spec, point) + ")";
}

struct Parsed {
  HwSpec hw;
  Workload workload;
};

Parsed parse_point(const SweepSpec& spec, size_t point) {
  try {
    return {parse_hw_spec(point_hw_yaml(spec, point), spec.hw),
            parse_workload(point_workload_yaml(spec, point), spec.workload)};
  } catch (const Error& e) {
    throw Error(where(spec, point) + ": " + e.what());
  }
}

// Latency and the timing sections of one kernel at this point.
nlohmann::ordered_json time_kernel(const Parsed& p, const std::string& kernel, const ResourceBudget& budget) {
  Session ses = prepare_session(p.hw, p.workload, kernel, false, budget);
  nlohmann::ordered_json result;
  result["work"] = work_json(ses);
  const std::string& unit = ses.kernel->spec().runs_on;
  const TimingEntry* timing = find_timing_model(unit.empty() ? ses.hw.arch : unit);
  if (!timing) throw Error(ses.hw.name + ": no timing model for arch '" + ses.hw.arch + "'");
  timing->simulate(ses, result);
  result["kernel"] = ses.kernel->spec().name;
  result["element_density"] = compute_stats(*ses.mask).element_density;
  return result;
}

}  // namespace

void validate_point(const SweepSpec& spec, size_t point) {
  const Parsed p = parse_point(spec, point);
  try {
    // Pattern parameters too, unless the pattern needs the inputs (relu, topk: built per run).
    const YAML::Node name = p.workload.pattern["name"];
    const auto& patterns = PatternRegistry::instance();
    if (!(name.IsScalar() && patterns.contains(name.Scalar()) && patterns.get(name.Scalar(), "patterns").data_dependent)) {
      PatternContext ctx;
      ctx.shape = p.workload.shape;
      ctx.seed = p.workload.seed;
      ctx.base_dir = std::filesystem::path(spec.workload).parent_path().string();
      make_pattern(p.workload.pattern, ctx, spec.workload);
    }
    std::vector<std::string> kernels = spec.baselines;
    if (const std::string k = point_kernel(spec, point); !k.empty()) kernels.push_back(k);
    for (const std::string& name : kernels) {
      const std::unique_ptr<IKernel> kernel = make_kernel(name);
      const KernelSpec& ks = kernel->spec();
      if (!ks.runs_on.empty() && !p.hw.attachments.count(ks.runs_on)) {
        throw Error("kernel '" + ks.name + "' runs on an attached " + ks.runs_on + ", but " + p.hw.name +
                    " has no '" + ks.runs_on + ":' section");
      }
    }
  } catch (const Error& e) {
    throw Error(where(spec, point) + ": " + e.what());
  }
}

nlohmann::ordered_json run_point(const SweepSpec& spec, size_t point, const ResourceBudget& budget) {
  const Parsed p = parse_point(spec, point);
  nlohmann::ordered_json row;
  row["point"] = point;
  for (const std::string& param : spec.parameters) {
    std::string text;
    for (const SweepAssignment& a : spec.points[point]) {
      if (a.path == param) text = a.text;
    }
    row[param] = text;
  }
  nlohmann::ordered_json r;
  try {
    r = time_kernel(p, point_kernel(spec, point), budget);
  } catch (const Error& e) {
    throw Error(where(spec, point) + ": " + e.what());
  }
  const double latency_s = r["timing"]["latency_s"].get<double>();
  row["kernel"] = r["kernel"];
  row["element_density"] = r["element_density"];
  row["latency_us"] = latency_s * 1e6;
  row["bound"] = r["timing"]["bound"];
  if (r.contains("sparsecore")) {
    const auto& sc = r["sparsecore"];
    row["matrix_us"] = sc["matrix_s"].get<double>() * 1e6;
    row["gather_us"] = sc["gather_s"].get<double>() * 1e6;
    row["tile_fill"] = sc["tile_fill"];
    row["gathered_tokens"] = sc["gathered_tokens"];
    row["bypassed_tiles"] = sc["bypassed_tiles"];
    row["area_mm2"] = sc["area_mm2"];
    row["power_w"] = sc["power_w"];
  }
  if (!spec.baselines.empty()) {
    double best_s = std::numeric_limits<double>::infinity();
    std::string best;
    for (const std::string& b : spec.baselines) {
      double t = 0;
      try {
        t = time_kernel(p, b, budget)["timing"]["latency_s"].get<double>();
      } catch (const Error& e) {
        throw Error(where(spec, point) + ": baseline " + b + ": " + e.what());
      }
      row[b + "_us"] = t * 1e6;
      if (t < best_s) best_s = t, best = b;
    }
    row["best_baseline"] = best;
    row["best_baseline_us"] = best_s * 1e6;
    row["speedup"] = best_s / latency_s;
  }
  return row;
}

}  // namespace attnsim

#include "sim/sweep/sweep_spec.h"

#include <algorithm>
#include <filesystem>

#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = path.find('.', b)) != std::string::npos; b = e + 1) out.push_back(path.substr(b, e - b));
  out.push_back(path.substr(b));
  return out;
}

// A path relative to the sweep file's folder, else as given (relative to the current one).
std::string near_file(const std::string& sweep_path, const std::string& p) {
  std::error_code ec;
  const fs::path local = fs::path(sweep_path).parent_path() / p;
  return fs::is_regular_file(local, ec) ? local.string() : p;
}

std::string scalar_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// Checks a parameter's form (prefix, no empty parts) and that its parents exist in the base
// file as mappings; the leaf key itself is checked by the file's own parser.
void check_parameter(const MapReader& r, const std::string& key, const std::string& path, const YAML::Node& hw,
                     const YAML::Node& wl) {
  if (path == "kernel") return;
  const std::vector<std::string> parts = split_path(path);
  const bool is_hw = parts[0] == "hw", is_wl = parts[0] == "workload";
  if ((!is_hw && !is_wl) || parts.size() < 2) {
    r.fail(key, "unknown parameter '" + path + "': parameters are 'kernel', 'hw.KEY.KEY...' (hardware config) or "
                "'workload.KEY...' (workload), e.g. hw.sparsecore.gather_bandwidth or workload.pattern.density");
  }
  YAML::Node node = YAML::Clone(is_hw ? hw : wl);
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) r.fail(key, "parameter '" + path + "' has an empty part");
    if (i + 1 == parts.size()) break;
    YAML::Node next = node[parts[i]];
    if (!next.IsDefined() || !next.IsMap()) {
      std::vector<std::string> keys;
      if (node.IsMap()) for (const auto& kv : node) keys.push_back(kv.first.as<std::string>());
      const std::string hint = nearest_name(parts[i], keys);
      r.fail(key, "unknown parameter '" + path + "': the " + (is_hw ? "hardware config" : "workload") +
                  " has no mapping '" + parts[i] + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; keys there: " + join_names(keys));
    }
    node = next;
  }
}

YAML::Node apply(YAML::Node base, const std::string& prefix, const std::vector<SweepAssignment>& point) {
  for (const SweepAssignment& a : point) {
    const std::vector<std::string> parts = split_path(a.path);
    if (parts[0] != prefix) continue;
    YAML::Node node = base;
    for (size_t i = 1; i + 1 < parts.size(); ++i) node.reset(node[parts[i]]);
    node[parts.back()] = YAML::Clone(a.value);
  }
  return base;
}

std::vector<SweepAssignment> read_values(MapReader& r, const std::string& key, const YAML::Node& list) {
  if (!list.IsSequence() || list.size() == 0) {
    r.fail(key, "expected a non-empty list of values, like [8192, 16384]");
  }
  std::vector<SweepAssignment> out;
  for (const auto& v : list) {
    if (!v.IsScalar()) r.fail(key, "values must be scalars (numbers, quantities like 64GB/s, names)");
    out.push_back({key, v, scalar_text(v)});
  }
  return out;
}

}  // namespace

SweepSpec load_sweep(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) {
    throw Error(path + ": a sweep file is a mapping with name, hw, workload and a grid or points (docs/sparsecore.md)");
  }
  MapReader r(root, path);
  SweepSpec s;
  s.source_path = path;
  s.name = r.string("name");
  r.allow("description");
  const std::string hw_name = r.string("hw");
  s.hw = resolve_hw_path(near_file(path, hw_name));
  s.workload = near_file(path, r.string("workload"));
  s.kernel = r.string("kernel", "");
  if (r.has("baselines")) {
    const YAML::Node b = root["baselines"];
    if (!b.IsSequence() || b.size() == 0) r.fail("baselines", "expected a non-empty list of kernel names, like [flex, fa3]");
    for (const auto& k : b) {
      if (!k.IsScalar()) r.fail("baselines", "expected kernel names, like [flex, fa3]");
      s.baselines.push_back(k.Scalar());
    }
  }
  r.allow("baselines");
  const YAML::Node hw = load_hw_yaml(s.hw);
  const YAML::Node wl = load_yaml_file(s.workload);
  const bool grid = r.has("grid"), list = r.has("points");
  if (!grid && !list) {  // a misspelt 'grid' is reported as such first
    for (const char* k : {"grid", "points", "plot"}) r.allow(k);
    r.finish();
  }
  if (grid == list) r.fail(grid ? "points" : "grid", "give exactly one of 'grid' (every combination) or 'points' (a list)");
  if (grid) {
    MapReader g = r.map("grid");
    std::vector<std::vector<SweepAssignment>> axes;
    double n = 1;
    for (const std::string& key : g.keys()) {
      check_parameter(g, key, key, hw, wl);
      axes.push_back(read_values(g, key, root["grid"][key]));
      g.allow(key);
      s.parameters.push_back(key);
      n *= static_cast<double>(axes.back().size());
    }
    if (axes.empty()) r.fail("grid", "is empty; give at least one parameter with a list of values");
    if (n > kMaxSweepPoints) {
      r.fail("grid", "has " + std::to_string(static_cast<int64_t>(n)) + " points, over the limit of " +
                         std::to_string(kMaxSweepPoints) + "; split the study or use 'points'");
    }
    // Every combination, the last axis varying fastest.
    std::vector<size_t> idx(axes.size(), 0);
    for (int64_t p = 0; p < static_cast<int64_t>(n); ++p) {
      std::vector<SweepAssignment> point;
      for (size_t a = 0; a < axes.size(); ++a) point.push_back(axes[a][idx[a]]);
      s.points.push_back(point);
      for (size_t a = axes.size(); a-- > 0;) {
        if (++idx[a] < axes[a].size()) break;
        idx[a] = 0;
      }
    }
  } else {
    const YAML::Node pts = root["points"];
    if (!pts.IsSequence() || pts.size() == 0) r.fail("points", "expected a non-empty list of {parameter: value} mappings");
    if (pts.size() > static_cast<size_t>(kMaxSweepPoints)) r.fail("points", "too many points (limit " + std::to_string(kMaxSweepPoints) + ")");
    r.allow("points");
    for (size_t i = 0; i < pts.size(); ++i) {
      if (!pts[i].IsMap() || pts[i].size() == 0) {
        r.fail("points", "entry " + std::to_string(i) + " must be a non-empty mapping of parameter: value");
      }
      MapReader pr(pts[i], path + ": points[" + std::to_string(i) + "]");
      std::vector<SweepAssignment> point;
      for (const std::string& key : pr.keys()) {
        check_parameter(pr, key, key, hw, wl);
        const YAML::Node v = pts[i][key];
        if (!v.IsScalar()) pr.fail(key, "values must be scalars");
        point.push_back({key, v, scalar_text(v)});
        pr.allow(key);
        if (std::find(s.parameters.begin(), s.parameters.end(), key) == s.parameters.end()) s.parameters.push_back(key);
      }
      s.points.push_back(point);
    }
  }
  if (r.has("plot")) {
    MapReader p = r.map("plot");
    s.plot.x = p.choice("x", s.parameters, s.parameters.front());
    s.plot.log_x = p.boolean("log_x", false);
    s.plot.log_y = p.boolean("log_y", false);
    p.finish();
  } else {
    r.allow("plot");
    s.plot.x = s.parameters.front();
  }
  r.finish();
  return s;
}

YAML::Node point_hw_yaml(const SweepSpec& spec, size_t point) {
  return apply(YAML::Clone(load_hw_yaml(spec.hw)), "hw", spec.points[point]);
}

YAML::Node point_workload_yaml(const SweepSpec& spec, size_t point) {
  return apply(YAML::Clone(load_yaml_file(spec.workload)), "workload", spec.points[point]);
}

std::string point_kernel(const SweepSpec& spec, size_t point) {
  for (const SweepAssignment& a : spec.points[point]) {
    if (a.path == "kernel") return a.text;
  }
  return spec.kernel;
}

std::string describe_point(const SweepSpec& spec, size_t point) {
  std::string out;
  for (const SweepAssignment& a : spec.points[point]) out += (out.empty() ? "" : ", ") + a.path + "=" + a.text;
  return out;
}

}  // namespace attnsim

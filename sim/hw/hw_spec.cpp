#include "sim/hw/hw_spec.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "sim/core/paths.h"

namespace attnsim {
namespace {

// Per-clock, per-unit rates: a TPU TensorCore does ~10^6 int8 ops per clock (v6e); 10^8 still
// catches a typo of several orders of magnitude.
constexpr double kMaxCount = 1e8;

MemoryLevel parse_level(MapReader& r) {
  MemoryLevel level;
  level.name = r.string("name");
  const std::string kind = r.choice("kind", {"scratchpad", "cache", "dram"});
  level.kind = kind == "scratchpad" ? MemoryKind::scratchpad : kind == "cache" ? MemoryKind::cache : MemoryKind::dram;
  level.per_unit = r.boolean("per_unit", false);
  level.capacity_bytes = r.quantity("capacity", UnitKind::bytes);
  level.bandwidth_bytes_per_s = r.quantity("bandwidth", UnitKind::bandwidth);
  level.latency_cycles = static_cast<double>(r.integer("latency_cycles", 0, 1000000));
  if (r.has("loaded_latency")) {
    for (MapReader& p : r.map_list("loaded_latency")) {
      const double u = p.number("utilization", 0.0, 1.0);
      const double t = p.quantity("latency", UnitKind::time);
      p.finish();
      if (!level.loaded_latency_s.empty() && u <= level.loaded_latency_s.back().first) {
        p.fail("utilization", "points must be listed by ascending utilization");
      }
      level.loaded_latency_s.emplace_back(u, t);
    }
  } else {
    r.allow("loaded_latency");
  }
  r.finish();
  return level;
}

}  // namespace

bool HwSpec::has_matrix_path(const std::string& path) const {
  return std::any_of(matrix_paths.begin(), matrix_paths.end(), [&](const MatrixPath& p) { return p.name == path; });
}

const MatrixPath& HwSpec::matrix_path(const std::string& path) const {
  for (const auto& p : matrix_paths) {
    if (p.name == path) return p;
  }
  std::vector<std::string> names;
  for (const auto& p : matrix_paths) names.push_back(p.name);
  throw Error(name + ": no matrix path '" + path + "'; this hardware has: " + join_names(names));
}

double HwSpec::peak_flops(const std::string& path, Dtype dtype) const {
  const MatrixPath& p = matrix_path(path);
  auto it = p.flops_per_clock_per_unit.find(dtype);
  if (it == p.flops_per_clock_per_unit.end()) {
    throw Error(name + ": matrix path '" + path + "' has no rate for dtype " + dtype_name(dtype));
  }
  return it->second * units * clock_hz;
}

const MemoryLevel& HwSpec::level(const std::string& level_name) const {
  for (const auto& l : memory) {
    if (l.name == level_name) return l;
  }
  throw Error(name + ": no memory level '" + level_name + "'");
}

const MemoryLevel* HwSpec::find_level(MemoryKind kind) const {
  for (const auto& l : memory) {
    if (l.kind == kind) return &l;
  }
  return nullptr;
}

const MemoryLevel& HwSpec::dram() const {
  const MemoryLevel* l = find_level(MemoryKind::dram);
  if (!l) throw Error(name + ": no dram memory level");
  return *l;
}

HwSpec parse_hw_spec(const YAML::Node& root, const std::string& source_name) {
  if (!root || root.IsNull()) {
    throw Error(source_name + ": the file is empty; a hardware config needs name, arch, sources, clock, compute, "
                              "memory, interconnect, tdp and its arch section (docs/config-schema.md)");
  }
  MapReader r(root, source_name);
  HwSpec hw;
  hw.source_path = source_name;
  // Free text (tag -> citation); tests check that every number cites a tag from it.
  if (!r.has("sources") || !root["sources"].IsMap()) r.fail("sources", "missing map of source tags, like 'HWP: NVIDIA H100 whitepaper'");
  r.allow("sources");
  hw.name = r.string("name");
  hw.description = r.string("description", "");
  hw.arch = r.string("arch");
  const ArchEntry* arch_entry = nullptr;
  try {
    arch_entry = &ArchRegistry::instance().get(hw.arch, "architectures");
  } catch (const Error& e) {
    r.fail("arch", e.what());  // name the file and key, not just the registry's list
  }
  const ArchEntry& arch = *arch_entry;
  hw.clock_hz = r.quantity("clock", UnitKind::frequency);
  if (hw.clock_hz < 1e7 || hw.clock_hz > 1e11) r.fail("clock", "must lie between 10MHz and 100GHz");

  MapReader compute = r.map("compute");
  hw.units = static_cast<int>(compute.integer("units", 1, 100000));
  hw.unit_name = compute.string("unit_name");
  MapReader paths = compute.map("matrix_paths");
  for (const std::string& path_name : paths.keys()) {
    MapReader rates = paths.map(path_name);
    MatrixPath path;
    path.name = path_name;
    for (const std::string& dt : rates.keys()) {
      Dtype d;
      try {
        d = parse_dtype(dt);
      } catch (const Error& e) {
        rates.fail(dt, e.what());
      }
      path.flops_per_clock_per_unit[d] = rates.number(dt, 1, kMaxCount);
    }
    rates.finish();
    if (path.flops_per_clock_per_unit.empty()) paths.fail(path_name, "needs at least one dtype rate, like 'bf16: 4096'");
    hw.matrix_paths.push_back(path);
  }
  paths.finish();
  if (hw.matrix_paths.empty()) compute.fail("matrix_paths", "needs at least one path, like 'wgmma: {bf16: 4096}'");
  hw.exp_per_clock_per_unit = compute.number("exp_per_clock_per_unit", 1e-3, kMaxCount);
  hw.vector_flops_per_clock_per_unit = compute.number("vector_flops_per_clock_per_unit", 1e-3, kMaxCount);
  compute.finish();

  for (MapReader& level_reader : r.map_list("memory")) {
    MemoryLevel level = parse_level(level_reader);
    for (const auto& other : hw.memory) {
      if (other.name == level.name) level_reader.fail("name", "memory level '" + level.name + "' is defined twice");
    }
    hw.memory.push_back(level);
  }
  if (!hw.find_level(MemoryKind::dram)) r.fail("memory", "needs one level with 'kind: dram' (the off-chip memory)");

  if (r.has("links")) {
    for (MapReader& lr : r.map_list("links")) {
      LinkSpec link;
      // Endpoints are graph nodes: "compute" or a memory level defined above.
      std::vector<std::string> nodes = {"compute"};
      for (const auto& l : hw.memory) nodes.push_back(l.name);
      link.from = lr.choice("from", nodes);
      link.to = lr.choice("to", nodes);
      link.bandwidth_bytes_per_s = lr.quantity("bandwidth", UnitKind::bandwidth);
      link.latency_s = lr.quantity("latency", UnitKind::time, 1e-12);
      lr.finish();
      hw.links.push_back(link);
    }
  }

  MapReader ic = r.map("interconnect");
  hw.interconnect.name = ic.string("name");
  hw.interconnect.bandwidth_bytes_per_s = ic.quantity("bandwidth", UnitKind::bandwidth);
  hw.interconnect.latency_s = ic.quantity("latency", UnitKind::time);
  hw.interconnect.max_chips = static_cast<int>(ic.integer("max_chips", 1, 1000000));
  ic.finish();

  hw.tdp_w = r.quantity("tdp", UnitKind::power);

  MapReader section = r.map(hw.arch);
  hw.arch_params = arch.parse(section, hw);
  section.finish();
  for (const auto& [name, entry] : AttachmentRegistry::instance().entries()) {
    if (!r.has(name)) {
      r.allow(name);
      continue;
    }
    MapReader unit = r.map(name);
    hw.attachments[name] = entry.parse(unit, hw);
    unit.finish();
  }
  r.finish();
  return hw;
}

namespace {

// Merges `over` into `base` in place: mappings key by key, anything else replaces.
void merge_into(YAML::Node base, const YAML::Node& over) {
  for (const auto& kv : over) {
    const std::string key = kv.first.as<std::string>();
    YAML::Node target = base[key];
    if (target.IsMap() && kv.second.IsMap()) merge_into(target, kv.second);
    else base[key] = YAML::Clone(kv.second);
  }
}

YAML::Node load_hw_yaml_depth(const std::string& path, int depth) {
  YAML::Node root = load_yaml_file(path);
  if (!root.IsMap() || !root["base"]) return root;
  const YAML::Node base_key = root["base"];
  if (!base_key.IsScalar()) throw Error(path + ": base: must be the name or path of another hardware config");
  if (depth >= 8) throw Error(path + ": base: more than 8 nested bases (is there a cycle?)");
  namespace fs = std::filesystem;
  const fs::path local = fs::path(path).parent_path() / base_key.Scalar();
  std::error_code ec;
  const std::string base_path =
      fs::is_regular_file(local, ec) ? local.string() : resolve_hw_path(base_key.Scalar());
  YAML::Node merged = YAML::Clone(load_hw_yaml_depth(base_path, depth + 1));
  root.remove("base");
  merge_into(merged, root);
  return merged;
}

}  // namespace

YAML::Node load_hw_yaml(const std::string& path) { return load_hw_yaml_depth(path, 0); }

HwSpec load_hw_spec(const std::string& path) { return parse_hw_spec(load_hw_yaml(path), path); }

std::string resolve_hw_path(const std::string& name_or_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  const fs::path candidate = fs::path(data_root()) / "hw-configs" / (name_or_path + ".yaml");
  if (fs::is_regular_file(candidate, ec)) return candidate.string();
  std::vector<std::string> names;
  for (const auto& p : list_hw_configs()) names.push_back(fs::path(p).stem().string());
  if (name_or_path.find('/') != std::string::npos || fs::path(name_or_path).extension() == ".yaml") {
    throw Error(name_or_path + ": no such file (check the path; shipped configs: " + join_names(names) + ")");
  }
  const std::string hint = nearest_name(name_or_path, names);
  throw Error("unknown hardware '" + name_or_path + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
              "; shipped configs: " + join_names(names) + " (or give a path to a YAML file)");
}

std::vector<std::string> list_hw_configs() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(data_root()) / "hw-configs", ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace attnsim

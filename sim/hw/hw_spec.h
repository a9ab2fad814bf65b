// Typed hardware description, parsed once from a hw-configs/*.yaml file and
// validated. Architecture-specific sections (`gpu:`, `tpu:`) are parsed by the
// architecture plug-in registered under the config's `arch:` name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/dtype.h"
#include "sim/core/registry.h"

namespace attnsim {

enum class MemoryKind { scratchpad, cache, dram };

struct MemoryLevel {
  std::string name;        // e.g. "smem", "l2", "hbm"
  MemoryKind kind = MemoryKind::dram;
  bool per_unit = false;   // one instance per SM / TensorCore
  double capacity_bytes = 0;
  double bandwidth_bytes_per_s = 0;  // per instance: whole chip, or one unit when per_unit
  double latency_cycles = 0;
  // Measured latency under load: (share of peak bandwidth in use, latency in s), ascending.
  // Empty: latency_cycles at any load.
  std::vector<std::pair<double, double>> loaded_latency_s;
};

struct MatrixPath {
  std::string name;  // "wgmma", "mma_sync", "mxu"
  std::map<Dtype, double> flops_per_clock_per_unit;
};

struct LinkSpec {
  std::string from, to;
  double bandwidth_bytes_per_s = 0;
  double latency_s = 0;
};

struct InterconnectSpec {
  std::string name;  // "nvlink", "ici"
  double bandwidth_bytes_per_s = 0;  // per chip, one direction
  double latency_s = 0;
  int max_chips = 1;
};

// Base of the per-architecture parameter blocks (GpuParams, TpuParams, ...).
struct ArchParams {
  virtual ~ArchParams() = default;
};

struct HwSpec {
  std::string name;
  std::string description;
  std::string arch;         // registry key of the timing model family
  std::string source_path;  // file it came from
  double clock_hz = 0;
  int units = 0;            // SMs or TensorCores
  std::string unit_name;    // "SM", "TensorCore"
  std::vector<MatrixPath> matrix_paths;
  double exp_per_clock_per_unit = 0;
  double vector_flops_per_clock_per_unit = 0;
  std::vector<MemoryLevel> memory;  // ordered from the compute units outward
  std::vector<LinkSpec> links;      // extra links beyond the default chain
  InterconnectSpec interconnect;
  double tdp_w = 0;
  std::shared_ptr<const ArchParams> arch_params;
  // Optional units attached to the host by a top-level section of the config
  // (e.g. `sparsecore:`), keyed by the section's name.
  std::map<std::string, std::shared_ptr<const ArchParams>> attachments;

  // The attached unit's parameters, or nullptr when the config has no such section.
  template <class P>
  const P* attachment(const std::string& section) const {
    auto it = attachments.find(section);
    return it == attachments.end() ? nullptr : dynamic_cast<const P*>(it->second.get());
  }

  const MatrixPath& matrix_path(const std::string& name) const;
  bool has_matrix_path(const std::string& name) const;
  double peak_flops(const std::string& path, Dtype dtype) const;  // whole chip, FLOP/s
  const MemoryLevel& level(const std::string& name) const;
  const MemoryLevel* find_level(MemoryKind kind) const;  // first level of that kind, or nullptr
  const MemoryLevel& dram() const;
  double dram_capacity_bytes() const { return dram().capacity_bytes; }

  template <class P>
  const P& params() const {
    auto p = std::dynamic_pointer_cast<const P>(arch_params);
    if (!p) throw Error(name + ": this hardware (arch '" + arch + "') has no such parameter block");
    return *p;
  }
};

// An architecture plug-in parses its own section of the config.
struct ArchEntry {
  std::string description;
  std::shared_ptr<const ArchParams> (*parse)(MapReader& section, const HwSpec& common);
};
using ArchRegistry = Registry<ArchEntry>;

// A unit that can be attached to any host: it parses the top-level section named
// after it (optional in every config) and may check it against the host.
struct AttachmentEntry {
  std::string description;
  std::shared_ptr<const ArchParams> (*parse)(MapReader& section, const HwSpec& host);
};
using AttachmentRegistry = Registry<AttachmentEntry>;

// The config's YAML with `base: NAME` resolved: the named config (a shipped name or a
// path, relative to this file first) is loaded and this file's mappings are merged
// into it key by key (lists and scalars replace). Bases may chain, up to 8 deep.
YAML::Node load_hw_yaml(const std::string& path);

HwSpec load_hw_spec(const std::string& path);
HwSpec parse_hw_spec(const YAML::Node& root, const std::string& source_name);

// Resolves "h100-sxm" or a path to hw-configs/<name>.yaml.
std::string resolve_hw_path(const std::string& name_or_path);
std::vector<std::string> list_hw_configs();  // paths of the shipped configs

}  // namespace attnsim

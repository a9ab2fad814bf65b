// `attnsim hw [NAME]`: list the shipped hardware configs, or show one.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "sim/cli/command.h"
#include "sim/core/units.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {
namespace cmd_hw {

nlohmann::json hw_json(const HwSpec& hw) {
  nlohmann::json j = {{"name", hw.name},           {"description", hw.description},
                      {"arch", hw.arch},           {"file", hw.source_path},
                      {"clock_hz", hw.clock_hz},   {"units", hw.units},
                      {"unit_name", hw.unit_name}, {"tdp_w", hw.tdp_w}};
  for (const auto& p : hw.matrix_paths) {
    for (const auto& [dt, rate] : p.flops_per_clock_per_unit) {
      j["peak_tflops"][p.name][dtype_name(dt)] = rate * hw.units * hw.clock_hz / 1e12;
    }
  }
  for (const auto& l : hw.memory) {
    j["memory"].push_back({{"name", l.name},
                           {"per_unit", l.per_unit},
                           {"capacity_bytes", l.capacity_bytes},
                           {"bandwidth_bytes_per_s", l.bandwidth_bytes_per_s},
                           {"latency_cycles", l.latency_cycles}});
  }
  j["interconnect"] = {{"name", hw.interconnect.name},
                       {"bandwidth_bytes_per_s", hw.interconnect.bandwidth_bytes_per_s},
                       {"max_chips", hw.interconnect.max_chips}};
  return j;
}

void show(const HwSpec& hw) {
  std::printf("%s - %s\n  file: %s\n  arch: %s, %d %s at %.0f MHz, TDP %.0f W\n", hw.name.c_str(),
              hw.description.c_str(), hw.source_path.c_str(), hw.arch.c_str(), hw.units, hw.unit_name.c_str(),
              hw.clock_hz / 1e6, hw.tdp_w);
  for (const auto& p : hw.matrix_paths) {
    for (const auto& [dt, rate] : p.flops_per_clock_per_unit) {
      std::printf("  %-10s %-5s %8.0f FLOP/clk/%s = %7.1f TFLOP/s\n", p.name.c_str(), dtype_name(dt).c_str(), rate,
                  hw.unit_name.c_str(), rate * hw.units * hw.clock_hz / 1e12);
    }
  }
  for (const auto& l : hw.memory) {
    std::printf("  %-6s %-12s %12s  %14s  %5.0f cycles\n", l.name.c_str(), l.per_unit ? "(per unit)" : "(chip)",
                format_bytes(l.capacity_bytes).c_str(), format_bandwidth(l.bandwidth_bytes_per_s).c_str(),
                l.latency_cycles);
  }
  std::printf("  %s: %s per chip, up to %d chips\n", hw.interconnect.name.c_str(),
              format_bandwidth(hw.interconnect.bandwidth_bytes_per_s).c_str(), hw.interconnect.max_chips);
}

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("hw", "list hardware configs, or show one (name or YAML path)");
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("name", *name, "config name (e.g. h100-sxm) or path");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([name, json] {
    if (name->empty()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& path : list_hw_configs()) {
        const HwSpec hw = load_hw_spec(path);
        if (*json) {
          list.push_back(hw_json(hw));
        } else {
          std::printf("%-12s %-5s %s\n", std::filesystem::path(path).stem().string().c_str(), hw.arch.c_str(),
                      hw.description.c_str());
        }
      }
      if (*json) std::printf("%s\n", list.dump(2).c_str());
      return;
    }
    const HwSpec hw = load_hw_spec(resolve_hw_path(*name));
    if (*json) std::printf("%s\n", hw_json(hw).dump(2).c_str());
    else show(hw);
  });
}

const Registrar<CommandEntry> kRegister("hw", CommandEntry{setup});

}  // namespace cmd_hw
}  // namespace attnsim

// What a chip-hour costs and what a token costs (docs/capacity-planning.md):
//   cloud:  $/chip-hour = price_per_chip_hour
//   owned:  $/chip-hour = capex / (lifetime_years x 8766 h) + power_kW x PUE x $/kWh
//   $/1M tokens = chips x $/chip-hour / 3600 x seconds / tokens x 1e6
//   J/token     = chips x power_W x seconds / tokens   (board power; x PUE at the wall)
// Chips are assumed to draw their board power (default: the config's tdp) while busy.
#pragma once

#include <map>
#include <string>

#include "sim/hw/hw_spec.h"

namespace attnsim {

struct ChipPrice {
  double usd_per_chip_hour = 0;   // all in (cloud price, or amortised capex + electricity)
  double power_w = 0;             // 0: the hardware config's tdp
  std::string basis;              // "cloud" | "owned"
};

struct CostConfig {
  std::string name;
  std::string source_path;
  double pue = 1;
  double usd_per_kwh = 0;
  std::map<std::string, ChipPrice> hardware;  // by hardware config name (lower case)

  // The price of this hardware; an Error that lists the priced hardware when absent.
  ChipPrice price(const HwSpec& hw) const;
};

CostConfig load_cost_config(const std::string& path);
CostConfig parse_cost_config(const YAML::Node& root, const std::string& source_name);
std::string resolve_cost_path(const std::string& name_or_path);  // "cloud-on-demand" or a path

struct TokenCost {
  double usd_per_million_tokens = 0;
  double joules_per_token = 0;          // board energy
  double facility_joules_per_token = 0; // x PUE
};

// The cost of `tokens` tokens that kept `chips` chips busy for `seconds`.
TokenCost token_cost(const CostConfig& c, const HwSpec& hw, int chips, double seconds, double tokens);

}  // namespace attnsim

#include "models/llm/cost_model.h"

#include <algorithm>
#include <cctype>

#include "models/llm/data_files.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {
namespace {

constexpr double kHoursPerYear = 8766;  // 365.25 days

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

ChipPrice CostConfig::price(const HwSpec& hw) const {
  auto it = hardware.find(lower(hw.name));
  if (it == hardware.end()) {
    std::vector<std::string> names;
    for (const auto& kv : hardware) names.push_back(kv.first);
    throw Error(source_path + ": no price for hardware '" + lower(hw.name) + "'; priced: " + join_names(names));
  }
  ChipPrice p = it->second;
  if (p.power_w <= 0) p.power_w = hw.tdp_w;
  if (p.basis == "owned") p.usd_per_chip_hour += p.power_w / 1000.0 * pue * usd_per_kwh;
  return p;
}

CostConfig parse_cost_config(const YAML::Node& root, const std::string& source_name) {
  if (!root || root.IsNull()) throw Error(source_name + ": the file is empty; a cost config needs name and hardware (docs/capacity-planning.md)");
  MapReader r(root, source_name);
  CostConfig c;
  c.source_path = source_name;
  c.name = r.string("name");
  r.allow("sources");
  r.allow("description");
  c.pue = r.number("pue", 1.0, 5.0);
  c.usd_per_kwh = r.number("electricity", 0.0, 10.0);
  MapReader hw = r.map("hardware");
  for (const std::string& key : hw.keys()) {
    MapReader e = hw.map(key);
    ChipPrice p;
    const bool cloud = e.has("price_per_chip_hour"), owned = e.has("capex_per_chip");
    if (cloud == owned) {
      e.fail(cloud ? "capex_per_chip" : "price_per_chip_hour",
             "give either price_per_chip_hour (cloud) or capex_per_chip with lifetime_years (owned), not both or neither");
    }
    if (cloud) {
      p.basis = "cloud";
      p.usd_per_chip_hour = e.number("price_per_chip_hour", 1e-6, 1e4);
    } else {
      p.basis = "owned";
      const double capex = e.number("capex_per_chip", 1.0, 1e8);
      const double years = e.number("lifetime_years", 0.1, 50.0);
      p.usd_per_chip_hour = capex / (years * kHoursPerYear);  // electricity added in price()
    }
    p.power_w = e.has("power") ? e.quantity("power", UnitKind::power) : 0;
    e.finish();
    c.hardware[lower(key)] = p;
  }
  r.finish();
  if (c.hardware.empty()) throw Error(source_name + ": hardware: lists no hardware");
  return c;
}

CostConfig load_cost_config(const std::string& path) { return parse_cost_config(load_yaml_file(path), path); }

std::string resolve_cost_path(const std::string& name_or_path) { return resolve_data_file(name_or_path, "configs/costs", "cost config"); }

TokenCost token_cost(const CostConfig& c, const HwSpec& hw, int chips, double seconds, double tokens) {
  if (tokens <= 0) throw Error("token_cost: no tokens");
  const ChipPrice p = c.price(hw);
  TokenCost t;
  t.usd_per_million_tokens = chips * p.usd_per_chip_hour / 3600.0 * seconds / tokens * 1e6;
  t.joules_per_token = chips * p.power_w * seconds / tokens;
  t.facility_joules_per_token = t.joules_per_token * c.pue;
  return t;
}

}  // namespace attnsim

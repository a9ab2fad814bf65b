// `attnsim serve` as text: the JSON result (every number is read from it), laid out for
// reading: scheduler, totals, latency percentiles, costs, per-pattern table, and the
// admission rule's effect (the same arrivals with and without it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace attnsim {

std::string serving_text(const nlohmann::ordered_json& serve);

}  // namespace attnsim

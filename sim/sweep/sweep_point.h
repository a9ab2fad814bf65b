// Runs one sweep point: the point's kernel and every baseline kernel on the point's
// hardware and workload, each through the timing model that owns it, and returns
// the result row (columns in a fixed order, so every process writes the same bytes).
#pragma once

#include <nlohmann/json.hpp>

#include "sim/session/budget.h"
#include "sim/sweep/sweep_spec.h"

namespace attnsim {

// Checks that the point's hardware config, workload and kernel names parse (cheap; no
// simulation), so a bad sweep file fails before any work. Errors name the point.
void validate_point(const SweepSpec& spec, size_t point);

// {column: value}: point, the swept parameters (as written), then the results.
nlohmann::ordered_json run_point(const SweepSpec& spec, size_t point, const ResourceBudget& budget);

}  // namespace attnsim

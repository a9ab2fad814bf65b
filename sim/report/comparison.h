// `attnsim compare`: one workload's results on several hardware configs, side by side.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/hw/hw_spec.h"

namespace attnsim {

struct ComparedRun {
  std::string label;                // column heading: the hardware config's name
  std::vector<MemoryLevel> levels;  // the config's memory levels, inner to outer
  nlohmann::ordered_json result;    // as `attnsim run --json` writes it
};

// {"workload": the part of the workload section that does not depend on the hardware,
//  "results": [each run's result document]}.
nlohmann::ordered_json comparison_json(const std::vector<ComparedRun>& runs);

// One column per hardware and one row per quantity; memory levels are aligned by role
// (scratchpad, cache, DRAM: MemoryKind), the level's own name heading each group. With
// exactly two runs a last column gives the latency ratio, second / first.
std::string render_comparison(const std::vector<ComparedRun>& runs);

}  // namespace attnsim

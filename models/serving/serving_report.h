// A serving run as JSON, with its token costs: the chips are paid for the whole run
// (idle included), and each phase's share of the bill follows its share of busy time.
#pragma once

#include <nlohmann/json.hpp>

#include "models/llm/cost_model.h"
#include "models/llm/step_model.h"
#include "models/serving/serving_sim.h"

namespace attnsim {

nlohmann::ordered_json serving_json(const ServingResult& r, const StepModel& model, const CostConfig* cost);

}  // namespace attnsim

// JSON and text renderings of a model step, its memory plan and its cost, shared by
// `attnsim model`, `serve` and `plan`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "models/llm/cost_model.h"
#include "models/llm/step_model.h"

namespace attnsim {

nlohmann::ordered_json memory_json(const MemoryPlan& m);
// The step, its operators and category totals; with `cost`, $/1M tokens, J/token and the
// attention's share of both (prefill prices input tokens, decode output tokens).
nlohmann::ordered_json step_json(const StepCost& s, const StepModel& model, const CostConfig* cost);
std::string render_step_text(const nlohmann::ordered_json& step);

}  // namespace attnsim

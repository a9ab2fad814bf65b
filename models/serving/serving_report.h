// A serving run as JSON, with its token costs: the chips are paid for the whole run
// (idle included), and each phase's share of the bill follows its share of busy time.
// With per-request patterns, a table per pattern class; with the admission rule, both
// runs (with and without it) on the same arrivals.
#pragma once

#include <nlohmann/json.hpp>

#include "models/llm/cost_model.h"
#include "models/llm/step_model.h"
#include "models/serving/admission.h"
#include "models/serving/pattern_mix.h"
#include "models/serving/serving_sim.h"

namespace attnsim {

nlohmann::ordered_json serving_json(const ServingResult& r, const StepModel& model, const CostConfig* cost);

// Per pattern class: requests that asked for it (by the input's `pattern`), what the rule
// decided (`admission` may be null: all admitted), and the latency percentiles of those
// completed; `served` counts the requests served with the class (downgrades land on the
// fallback). `requests` are the input requests, ids = their indices.
nlohmann::ordered_json pattern_table_json(const std::vector<PatternClass>& classes, const std::vector<Request>& requests,
                                          const ServingResult& r, const AdmissionResult* admission);

}  // namespace attnsim

// Results as one JSON document (the --json output and what the GUI/plots read)
// and its human-readable rendering. Every number comes from the model.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/functional/check.h"
#include "sim/session/session.h"

namespace attnsim {

nlohmann::ordered_json workload_json(const Session& ses);
nlohmann::ordered_json mask_json(const MaskStats& st);
nlohmann::ordered_json work_json(const Session& ses);  // FLOPs, minimum bytes, trace totals
nlohmann::ordered_json check_json(const CheckResult& r);

// Renders a result document as aligned text sections.
std::string render_text(const nlohmann::ordered_json& result);

}  // namespace attnsim

// The pipeline `run` and `compare` share: one prepared session becomes the result
// document that `attnsim run --json` writes, section by section.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/cli/session_options.h"
#include "sim/session/session.h"

namespace attnsim {

// Functional-check options for this session: the budget's threads and limits, the
// workload's precision and seed, `sample_rows` sampled rows (0: every row).
CheckOptions session_check_options(const SessionOptions& so, const Session& ses, int64_t sample_rows);

// The "workload", "mask" and "work" sections and, where the hardware's architecture has
// a timing model, what it adds ("timing", "traffic", "series"); otherwise a "timing"
// section whose "status" says that none is registered.
nlohmann::ordered_json simulate_session(const Session& ses, bool progress);

// Runs the functional check and adds it as the "check" section.
void add_check(const Session& ses, const CheckOptions& co, bool progress, nlohmann::ordered_json& result);

}  // namespace attnsim

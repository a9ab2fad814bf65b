// Chrome / Perfetto Trace Event Format export of a result document (`attnsim run --trace`):
// one thread track per SM / TensorCore slot with a slice per work unit, and one counter
// track per memory level with its bandwidth. Loads in ui.perfetto.dev and chrome://tracing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace attnsim {

// The trace as JSON text (one event per line). Reads "workload", "timing", "traffic",
// "series" and "timeline" (sim/report/timeline.h); its size is bounded by the timeline's
// record limit, and an aggregated timeline is named as such in the trace.
std::string trace_event_json(const nlohmann::ordered_json& result);

}  // namespace attnsim

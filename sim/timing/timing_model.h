// Timing models register per architecture ("gpu", "tpu"); `attnsim run` asks
// for the one matching the hardware config and lets it add its results.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/core/registry.h"
#include "sim/session/session.h"

namespace attnsim {

struct TimingEntry {
  std::string description;
  // Simulates the session's trace and adds "timing", "traffic", ... to result.
  void (*simulate)(const Session& session, nlohmann::ordered_json& result) = nullptr;
};
using TimingRegistry = Registry<TimingEntry>;

// What `attnsim compare` reads from the sections a timing model adds (a missing key shows
// as "n/a" there): "timing" holds latency_us, achieved_tflops, executed_tflops and bound,
// and the matrix-unit and vector-unit utilisation (0..1) under one of the names below;
// "traffic" holds one object per memory level, named as in the hardware config, with
// read_bytes, write_bytes, avg_bytes_per_s and utilization. A model that names its
// utilisation differently adds its name here.
inline constexpr const char* kMatrixUtilizationKeys[] = {"tensor_core_utilization", "mxu_utilization"};
inline constexpr const char* kVectorUtilizationKeys[] = {"sfu_utilization", "vpu_utilization"};

inline const TimingEntry* find_timing_model(const std::string& arch) {
  auto& reg = TimingRegistry::instance();
  return reg.contains(arch) ? &reg.get(arch, "timing models") : nullptr;
}

}  // namespace attnsim

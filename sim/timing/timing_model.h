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

inline const TimingEntry* find_timing_model(const std::string& arch) {
  auto& reg = TimingRegistry::instance();
  return reg.contains(arch) ? &reg.get(arch, "timing models") : nullptr;
}

}  // namespace attnsim

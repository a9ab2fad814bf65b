// The serving admission rule (issue 7): a request whose pattern is more irregular than
// the rule allows (models/serving/irregularity.h) is rejected at arrival, or downgraded
// to a regular fallback class that it is then served (and costed) with. Decided once per
// request before the simulation, from its pattern class and prompt length only (what an
// admission controller sees).
#pragma once

#include <cstdint>
#include <vector>

#include "models/serving/arrivals.h"
#include "models/serving/irregularity.h"

namespace attnsim {

enum class Admission : uint8_t { admitted, rejected, downgraded };

// The thresholds live in the IrregularityTable's rule.
struct AdmissionRule {
  bool enabled = false;
  bool downgrade = false;  // false: reject
  int fallback = 0;        // pattern class a downgraded request is served with
};

struct AdmissionResult {
  std::vector<Request> served;         // admitted as they are, downgraded with class `fallback`
  std::vector<Admission> decision;     // per input request, in input order
  std::vector<double> irregularity;    // per input request: the rule's measure (keys)
};

AdmissionResult apply_admission(const std::vector<Request>& requests, const AdmissionRule& rule, IrregularityTable& table);

}  // namespace attnsim

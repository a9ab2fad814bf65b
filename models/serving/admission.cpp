#include "models/serving/admission.h"

#include <algorithm>

namespace attnsim {

AdmissionResult apply_admission(const std::vector<Request>& requests, const AdmissionRule& rule, IrregularityTable& table) {
  AdmissionResult out;
  out.decision.assign(requests.size(), Admission::admitted);
  out.irregularity.assign(requests.size(), 0.0);
  out.served.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    Request r = requests[i];
    if (rule.enabled) {
      const int cls = std::max(0, r.pattern);
      out.irregularity[i] = table.measure(cls, r.prompt_tokens);
      if (!table.within(cls, r.prompt_tokens)) {
        out.decision[i] = rule.downgrade ? Admission::downgraded : Admission::rejected;
        if (!rule.downgrade) continue;
        r.pattern = rule.fallback;
      }
    }
    out.served.push_back(r);
  }
  return out;
}

}  // namespace attnsim

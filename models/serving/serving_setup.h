// What `serve` and `plan` assemble a serving run from: the pattern classes (a mix's
// entries, or the model's own patterns, plus the admission fallback when it is new), a
// step model per class on one deployment with their step table, and the run itself with
// the admission rule applied (and, for comparison, without it on the same arrivals).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/serving/admission.h"
#include "models/serving/pattern_mix.h"
#include "models/serving/serving_sim.h"
#include "models/serving/step_table.h"

namespace attnsim {

struct PatternSet {
  std::vector<PatternClass> classes;  // never empty; class 0 serves requests without a pattern
  int fallback = -1;                  // downgrade target; -1: none
};

// `fallback`: "" (none), a mix entry's name, `model` (the model's own layers) or a pattern
// mapping like '{name: causal}'.
PatternSet pattern_set(const PatternMix& mix, const std::string& fallback, const ModelSpec& model);
std::vector<ModelSpec> class_models(const PatternSet& set, const ModelSpec& model);

class ServingModels {
 public:
  ServingModels(const HwSpec& hw, const ModelSpec& model, const Deployment& d, const PatternSet& set, bool exact);
  StepModel& base() { return *models_.front(); }  // class 0: memory plan, costs
  StepTable& table() { return *table_; }

 private:
  std::vector<std::unique_ptr<StepModel>> models_;
  std::unique_ptr<StepTable> table_;
};

struct ServingRun {
  AdmissionResult admission;
  ServingResult result;                      // with the rule (the only run when it is off)
  std::optional<ServingResult> without_rule; // the same arrivals, every request as it asked
};

// `irregularity` may be null when the rule is off; `compare`: also run without the rule.
ServingRun serve_requests(const std::vector<Request>& requests, StepTable& table, const ServingOptions& o,
                          const AdmissionRule& rule, IrregularityTable* irregularity, bool compare);

}  // namespace attnsim

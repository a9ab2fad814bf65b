#include "models/serving/serving_setup.h"

#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

PatternSet pattern_set(const PatternMix& mix, const std::string& fallback, const ModelSpec& model) {
  PatternSet set;
  set.classes = mix.entries;
  if (set.classes.empty()) set.classes.push_back(PatternClass{"model", 1.0, YAML::Node()});
  if (fallback.empty()) return set;
  const int named = mix.index(fallback);
  if (named >= 0) {
    set.fallback = named;
    return set;
  }
  PatternClass c{"fallback", 0.0, YAML::Node()};
  if (fallback == "model") {
    for (size_t i = 0; i < set.classes.size(); ++i) {
      if (set.classes[i].own_layers()) set.fallback = static_cast<int>(i);
    }
    if (set.fallback >= 0) return set;
    c.name = "model";
  } else {
    const YAML::Node p = load_yaml_string(fallback, "--admit-fallback");
    if (!p.IsMap()) {
      const std::string entries = mix.entries.empty() ? "" : "an entry of the pattern mix (" + join_names(mix.names()) + "), ";
      throw Error("--admit-fallback '" + fallback + "': expected " + entries + "'model' or a pattern mapping like '{name: causal}'");
    }
    validate_pattern(p, model, "--admit-fallback");
    c.pattern = p;
  }
  set.fallback = static_cast<int>(set.classes.size());
  set.classes.push_back(c);
  return set;
}

std::vector<ModelSpec> class_models(const PatternSet& set, const ModelSpec& model) {
  std::vector<ModelSpec> out;
  for (const PatternClass& c : set.classes) out.push_back(class_model(model, c));
  return out;
}

ServingModels::ServingModels(const HwSpec& hw, const ModelSpec& model, const Deployment& d, const PatternSet& set, bool exact) {
  std::vector<StepModel*> raw;
  for (const ModelSpec& m : class_models(set, model)) {
    models_.push_back(std::make_unique<StepModel>(hw, m, d));
    raw.push_back(models_.back().get());
  }
  table_ = std::make_unique<StepTable>(raw, exact);
}

ServingRun serve_requests(const std::vector<Request>& requests, StepTable& table, const ServingOptions& o,
                          const AdmissionRule& rule, IrregularityTable* irregularity, bool compare) {
  ServingRun run;
  if (!rule.enabled) {
    run.result = simulate_serving(requests, table, o);
    return run;
  }
  if (!irregularity) throw Error("serving: the admission rule needs its irregularity table (internal)");
  run.admission = apply_admission(requests, rule, *irregularity);
  if (compare) run.without_rule = simulate_serving(requests, table, o);
  run.result = simulate_serving(run.admission.served, table, o);
  return run;
}

}  // namespace attnsim

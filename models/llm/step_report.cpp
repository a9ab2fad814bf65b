#include "models/llm/step_report.h"

#include <cstdio>

namespace attnsim {

namespace {
const char* const kCategories[] = {"gemm", "attention", "norm", "elementwise", "collective"};
}

nlohmann::ordered_json memory_json(const MemoryPlan& m) {
  return {{"weight_bytes_per_chip", m.weight_bytes_per_chip},
          {"kv_bytes_per_token_per_chip", m.kv_bytes_per_token_per_chip},
          {"usable_bytes_per_chip", m.usable_bytes_per_chip},
          {"kv_capacity_tokens", m.kv_capacity_tokens}};
}

nlohmann::ordered_json step_json(const StepCost& s, const StepModel& model, const CostConfig* cost) {
  const double tokens = s.phase == "prefill" ? static_cast<double>(s.batch * s.tokens) : static_cast<double>(s.batch);
  nlohmann::ordered_json j = {{"phase", s.phase}, {"batch", s.batch}, {"tokens", s.tokens}, {"time_us", s.time_s * 1e6},
                              {"tokens_per_s", tokens / s.time_s}};
  nlohmann::ordered_json cats, ops = nlohmann::ordered_json::array();
  for (const char* c : kCategories) cats[c] = {{"time_us", s.category_s(c) * 1e6}, {"share", s.category_s(c) / s.time_s}};
  for (const OpCost& o : s.ops) {
    ops.push_back({{"name", o.name}, {"category", o.category}, {"time_us", o.time_s * 1e6}, {"flops", o.flops}, {"hbm_bytes", o.hbm_bytes}});
  }
  j["categories"] = cats;
  j["operators"] = ops;
  if (cost) {
    const TokenCost t = token_cost(*cost, model.hw(), model.deployment().chips(), s.time_s, tokens);
    const double share = s.category_s("attention") / s.time_s;
    j["cost"] = {{"config", cost->name},
                 {"usd_per_chip_hour", cost->price(model.hw()).usd_per_chip_hour},
                 {s.phase == "prefill" ? "usd_per_million_input_tokens" : "usd_per_million_output_tokens", t.usd_per_million_tokens},
                 {"joules_per_token", t.joules_per_token},
                 {"facility_joules_per_token", t.facility_joules_per_token},
                 {"attention_usd_per_million_tokens", t.usd_per_million_tokens * share},
                 {"attention_joules_per_token", t.joules_per_token * share}};
  }
  return j;
}

std::string render_step_text(const nlohmann::ordered_json& j) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%s  batch %lld  tokens %lld  step %.1f us  (%.0f tokens/s)\n", j["phase"].get<std::string>().c_str(),
                static_cast<long long>(j["batch"].get<int64_t>()), static_cast<long long>(j["tokens"].get<int64_t>()),
                j["time_us"].get<double>(), j["tokens_per_s"].get<double>());
  out += line;
  for (const auto& o : j["operators"]) {
    std::snprintf(line, sizeof line, "    %-26s %-12s %12.1f us\n", o["name"].get<std::string>().c_str(),
                  o["category"].get<std::string>().c_str(), o["time_us"].get<double>());
    out += line;
  }
  for (const auto& [name, c] : j["categories"].items()) {
    std::snprintf(line, sizeof line, "    total %-20s %12.1f us  %5.1f%%\n", name.c_str(), c["time_us"].get<double>(), 100 * c["share"].get<double>());
    out += line;
  }
  if (j.contains("cost")) {
    for (const auto& [k, v] : j["cost"].items()) {
      out += "    " + k + " " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
    }
  }
  return out;
}

}  // namespace attnsim

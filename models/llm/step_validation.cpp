#include "models/llm/step_validation.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/gpu/gpu_params.h"
#include "models/llm/model_spec.h"
#include "models/llm/step_model.h"
#include "sim/core/error.h"
#include "sim/hw/hw_spec.h"

namespace attnsim {

bool StepValidationRow::within() const { return std::abs(error) <= target; }

namespace {

// Measured operator labels (model_step.py) and attnsim operators of each group.
struct GroupMap {
  const char* name;
  std::vector<std::string> measured, model;
};
const std::vector<GroupMap>& group_map() {
  static const std::vector<GroupMap> g = {
      {"attention", {"attention"}, {"attention:"}},
      {"qkv", {"qkv_proj"}, {"qkv_proj"}},
      {"o_proj", {"o_proj"}, {"o_proj"}},
      {"mlp", {"mlp"}, {"mlp_gate_up", "silu_mul", "mlp_down"}},
      {"lm_head", {"lm_head"}, {"lm_head"}},
      {"norm", {"norm"}, {"rmsnorm", "final_norm"}},
      {"rope", {"rope"}, {"rope"}},
      {"other", {"embed", "residual", "kv_write", "other"}, {"embedding", "rope_tables", "residual_add", "kv_write"}}};
  return g;
}

template <typename T>
T field(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) throw Error(where + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": field '" + key + "' has the wrong type (" + j.at(key).dump().substr(0, 40) + ")");
  }
}

ModelSpec record_model(const nlohmann::json& j, const std::string& where) {
  const nlohmann::json m = field<nlohmann::json>(j, "model", where);
  YAML::Node y(YAML::NodeType::Map);
  y["name"] = field<std::string>(m, "name", where + ": model");
  for (const char* k : {"layers", "hidden", "q_heads", "kv_heads", "head_dim", "ffn", "vocab"}) {
    y[k] = field<int64_t>(m, k, where + ": model");
  }
  y["max_context"] = std::max(field<int64_t>(j, "q_len", where), field<int64_t>(j, "kv_len", where));
  const std::string dt = field<std::string>(j, "dtype", where);
  y["dtype"] = dt == "bfloat16" ? "bf16" : dt == "float16" ? "fp16" : dt;
  YAML::Node pattern(YAML::NodeType::Map);
  pattern["name"] = j.contains("pattern") && j["pattern"].is_object() ? j["pattern"].value("name", "causal") : "causal";
  y["attention"]["pattern"] = pattern;
  return parse_model_spec(y, where);
}

StepValidationRow simulate(const nlohmann::json& j, const std::string& where, const HwSpec& hw, const StepValidationOptions& o) {
  StepValidationRow r;
  r.source = where;
  r.case_id = field<std::string>(j, "case_id", where);
  r.set = field<std::string>(j, "set", where);
  if (r.set != "calibration" && r.set != "validation") throw Error(where + ": set '" + r.set + "' is not calibration or validation");
  const bool decode = field<std::string>(j, "phase", where) == "model_decode";
  r.phase = decode ? "decode" : "prefill";
  r.batch = field<int64_t>(j, "batch", where);
  r.tokens = field<int64_t>(j, decode ? "kv_len" : "q_len", where);
  r.measured_us = field<double>(j, "time_us", where);
  if (!(r.measured_us > 0) || r.batch < 1 || r.tokens < 1) throw Error(where + ": time_us, batch and lengths must be positive");
  const auto ops_us = field<std::map<std::string, double>>(j, "ops_us", where);
  Deployment d;
  d.ops = o.ops;
  d.attention_kernel = decode ? o.decode_kernel : o.prefill_kernel;
  StepModel sm(hw, record_model(j, where), d);
  const StepCost c = decode ? sm.decode(r.batch, r.tokens) : sm.prefill(r.batch, r.tokens);
  r.model_us = c.time_s * 1e6;
  r.error = r.model_us / r.measured_us - 1;
  r.target = decode ? o.decode_target : o.prefill_target;
  const double launch_us = hw.params<GpuParams>().launch_overhead_s * 1e6;
  for (const GroupMap& g : group_map()) {
    StepGroup sg{g.name, 0, 0};
    for (const std::string& label : g.measured) {
      if (auto it = ops_us.find(label); it != ops_us.end()) sg.measured_us += it->second;
    }
    for (const OpCost& op : c.ops) {
      for (const std::string& name : g.model) {
        const bool prefix = name.back() == ':';
        if (prefix ? op.name.rfind(name, 0) == 0 : op.name == name) {
          sg.model_us += op.time_s * 1e6 - static_cast<double>(op.kernels) * launch_us;
        }
      }
    }
    r.groups.push_back(sg);
  }
  return r;
}

}  // namespace

StepValidationReport validate_steps(const StepValidationOptions& o) {
  if (o.files.empty()) throw Error("no model-step measurement files given");
  const HwSpec hw = load_hw_spec(resolve_hw_path(o.hw));
  if (hw.arch != "gpu") throw Error(hw.name + ": model-step validation compares GPU kernel times; '" + hw.arch + "' is not a GPU");
  StepValidationReport rep;
  for (const std::string& path : o.files) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot read the measurement file");
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = path + ":" + std::to_string(n);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        throw Error(where + ": not valid JSON (" + std::string(e.what()).substr(0, 80) + ")");
      }
      const std::string phase = j.is_object() ? j.value("phase", "") : "";
      if ((phase != "model_prefill" && phase != "model_decode") || j.value("status", "ok") != "ok") continue;
      rep.rows.push_back(simulate(j, where, hw, o));
    }
  }
  if (rep.rows.empty()) throw Error("no model-step records (phase model_prefill/model_decode) in the given files");
  for (const StepValidationRow& r : rep.rows) {
    StepSetSummary& s = rep.sets[r.set];
    ++s.records;
    s.mape += std::abs(r.error);
    if (std::abs(r.error) >= s.max_abs_error) {
      s.max_abs_error = std::abs(r.error);
      s.worst_case = r.case_id;
    }
    if (!r.within()) ++s.outside;
    if (!r.within() && r.set == "validation") rep.pass = false;
  }
  for (auto& [name, s] : rep.sets) s.mape /= s.records;
  return rep;
}

std::string render_step_validation_text(const StepValidationReport& rep) {
  std::string out = "set  case                           measured us   attnsim us    error  target\n";
  char line[512];
  for (const StepValidationRow& r : rep.rows) {
    std::snprintf(line, sizeof line, "%s  %-30s %11.1f  %11.1f  %+6.1f%%  %4.0f%%  %s\n", r.set == "calibration" ? "cal" : "val",
                  r.case_id.c_str(), r.measured_us, r.model_us, 100 * r.error, 100 * r.target,
                  r.within() ? "ok" : (r.set == "validation" ? "FAIL" : "outside (calibration)"));
    out += line;
    std::string ops = "     kernel us attnsim/measured:";
    for (const StepGroup& g : r.groups) {
      std::snprintf(line, sizeof line, " %s %.0f/%.0f%s", g.name.c_str(), g.model_us, g.measured_us,
                    g.measured_us > 0 ? "" : " (not measured)");
      ops += line;
      if (g.measured_us > 0) {
        std::snprintf(line, sizeof line, " (%+.0f%%)", 100 * (g.model_us / g.measured_us - 1));
        ops += line;
      }
    }
    out += ops + "\n";
  }
  for (const auto& [name, s] : rep.sets) {
    std::snprintf(line, sizeof line, "%-11s %2d records  MAPE %.1f%%  max |error| %.1f%% (%s)  outside target %d\n", name.c_str(),
                  s.records, 100 * s.mape, 100 * s.max_abs_error, s.worst_case.c_str(), s.outside);
    out += line;
  }
  out += rep.pass ? "PASS: every validation record within its target\n" : "FAIL: validation records outside their target\n";
  return out;
}

}  // namespace attnsim

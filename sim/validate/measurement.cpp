#include "sim/validate/measurement.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "sim/core/error.h"

namespace attnsim {
namespace {

std::string resolve_mask(const std::string& mask, const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(mask, ec)) return mask;
  // Mask paths are relative to the repository that produced the file: try the
  // measurement file's folder and its ancestors.
  for (fs::path dir = fs::absolute(file).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_regular_file(dir / mask, ec)) return (dir / mask).string();
    if (dir == dir.parent_path()) break;
  }
  throw Error(file + ": mask file '" + mask + "' not found next to the measurement file or above it");
}

Dtype dtype_from_torch(const std::string& name, const std::string& where) {
  if (name == "bfloat16" || name == "bf16") return Dtype::bf16;
  if (name == "float16" || name == "fp16" || name == "half") return Dtype::fp16;
  if (name == "float32" || name == "fp32") return Dtype::fp32;
  if (name.rfind("float8", 0) == 0 || name == "fp8") return Dtype::fp8;
  throw Error(where + ": unsupported dtype '" + name + "'");
}

template <class T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) throw Error(where + ": missing required field '" + key + "'");
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": field '" + key + "' has the wrong type");
  }
}

}  // namespace

bool is_calibration_case(const std::string& case_id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : case_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h % 4 == 0;
}

void read_measurements(const std::string& path, std::vector<MeasuredCase>& cases) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open measurement file");
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < cases.size(); ++i) by_id[cases[i].case_id] = i;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(where + ": not valid JSON (" + std::string(e.what()).substr(0, 80) + ")");
    }
    const std::string phase = j.value("phase", "");
    if (phase != "prefill" && phase != "decode") continue;
    if (j.value("status", "ok") != "ok") continue;
    const std::string id = field<std::string>(j, "case_id", where);
    if (j.value("measurement", "") == "ncu") {
      auto it = by_id.find(id);
      if (it != by_id.end()) {
        cases[it->second].dram_bytes = j.value("dram_bytes", -1.0);
        cases[it->second].dram_read_bytes = j.value("dram_read_bytes", -1.0);
        cases[it->second].dram_write_bytes = j.value("dram_write_bytes", -1.0);
        cases[it->second].l2_bytes = j.value("l2_bytes", -1.0);
      }
      continue;
    }
    MeasuredCase c;
    c.case_id = id;
    c.source = where;
    c.hardware = field<std::string>(j, "hardware", where);
    c.hardware_model = j.value("hardware_model", "");
    c.kernel = field<std::string>(j, "kernel", where);
    c.time_us = field<double>(j, "time_us", where);
    if (!(c.time_us > 0)) throw Error(where + ": time_us must be positive");
    c.sm_clock_mhz = j.contains("sm_clock_mhz") && j["sm_clock_mhz"].is_number() ? j["sm_clock_mhz"].get<double>() : 0;
    if (j.contains("dram_bytes") && j["dram_bytes"].is_number()) c.dram_bytes = j["dram_bytes"].get<double>();
    if (j.contains("dram_read_bytes") && j["dram_read_bytes"].is_number()) c.dram_read_bytes = j["dram_read_bytes"].get<double>();
    if (j.contains("dram_write_bytes") && j["dram_write_bytes"].is_number()) {
      c.dram_write_bytes = j["dram_write_bytes"].get<double>();
    }
    AttentionShape& s = c.workload.shape;
    s.batch = field<int64_t>(j, "batch", where);
    s.q_heads = field<int64_t>(j, "q_heads", where);
    s.kv_heads = field<int64_t>(j, "kv_heads", where);
    s.head_dim = field<int64_t>(j, "head_dim", where);
    s.q_len = field<int64_t>(j, "q_len", where);
    s.kv_len = field<int64_t>(j, "kv_len", where);
    s.dtype = dtype_from_torch(field<std::string>(j, "dtype", where), where);
    s.phase = phase == "decode" ? Phase::decode : Phase::prefill;
    if (s.batch <= 0 || s.q_heads <= 0 || s.kv_heads <= 0 || s.head_dim <= 0 || s.q_len <= 0 || s.kv_len <= 0) {
      throw Error(where + ": sizes must be positive");
    }
    validate_shape(s, where);
    c.workload.name = id;
    c.workload.source_path = path;
    YAML::Node pattern(YAML::NodeType::Map);
    if (j.contains("mask_file") && j["mask_file"].is_string()) {
      pattern["name"] = "file";
      pattern["path"] = resolve_mask(j["mask_file"].get<std::string>(), path);
    } else {
      const std::string name = j.contains("pattern") && j["pattern"].is_object()
                                   ? j["pattern"].value("name", "dense")
                                   : (j.value("causal", false) ? "causal" : "dense");
      if (name != "dense" && name != "causal") {
        throw Error(where + ": pattern '" + name + "' needs a mask_file (only dense and causal are implied)");
      }
      pattern["name"] = name;
    }
    c.workload.pattern = pattern;
    by_id[id] = cases.size();
    cases.push_back(std::move(c));
  }
}

}  // namespace attnsim

// Typed, schema-checked access to one YAML mapping. Every key read is recorded;
// finish() rejects the keys nobody asked for (suggesting the nearest valid one),
// so a typo can never fall back to a silent default.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/core/units.h"

namespace attnsim {

class MapReader {
 public:
  // `where` names the file and the path inside it, e.g. "hw-configs/h100.yaml: memory.hbm".
  MapReader(YAML::Node node, std::string where);

  bool has(const std::string& key) const;
  double quantity(const std::string& key, UnitKind kind, std::optional<double> fallback = {});
  int64_t integer(const std::string& key, int64_t min, int64_t max,
                  std::optional<int64_t> fallback = {});
  double number(const std::string& key, double min, double max, std::optional<double> fallback = {});
  bool boolean(const std::string& key, std::optional<bool> fallback = {});
  std::string string(const std::string& key, std::optional<std::string> fallback = {});
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = {});
  std::vector<int64_t> integer_list(const std::string& key, int64_t min, int64_t max,
                                    std::optional<std::vector<int64_t>> fallback = {});
  MapReader map(const std::string& key);
  std::vector<MapReader> map_list(const std::string& key);
  // Marks the key as known without interpreting it (e.g. free-text `source`).
  void allow(const std::string& key);
  // Keys in a free-form sub-map, in file order.
  std::vector<std::string> keys() const;

  // Throws on any key that was never read or allowed.
  void finish() const;

  const std::string& where() const { return where_; }
  [[noreturn]] void fail(const std::string& key, const std::string& reason) const;

 private:
  YAML::Node get(const std::string& key, bool required, const char* what);

  YAML::Node node_;
  std::string where_;
  std::set<std::string> used_;
};

// Loads a YAML file; parse errors become attnsim::Error with the file and line.
YAML::Node load_yaml_file(const std::string& path);
YAML::Node load_yaml_string(const std::string& text, const std::string& name);

// Levenshtein-nearest candidate, or "" when nothing is close.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);
std::string join_names(const std::vector<std::string>& names);

}  // namespace attnsim

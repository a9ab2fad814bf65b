#include "sim/config/map_reader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "sim/core/error.h"

namespace attnsim {
namespace {

// A value for a message: the scalar (clipped), or what stands there instead.
std::string shown(const YAML::Node& v) { return v.IsScalar() ? clipped(v.Scalar()) : std::string("a list or map"); }

}  // namespace

MapReader::MapReader(YAML::Node node, std::string where) : node_(std::move(node)), where_(std::move(where)) {
  if (!node_ || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
  } else if (!node_.IsMap()) {
    throw Error(where_ + ": expected a mapping of 'key: value' lines");
  }
  // yaml-cpp keeps both copies of a repeated key and lookups see the first: refuse it
  // rather than silently ignore one of the two values.
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) throw Error(where_ + (where_.empty() ? "" : ": ") + "keys must be plain names");
    if (!seen.insert(kv.first.Scalar()).second) {
      throw Error(where_ + (where_.empty() ? "" : ": ") + "key '" + clipped(kv.first.Scalar()) +
                  "' appears twice; keep one");
    }
  }
}

void MapReader::fail(const std::string& key, const std::string& reason) const {
  throw Error(where_ + (where_.empty() ? "" : ": ") + key + ": " + reason);
}

bool MapReader::has(const std::string& key) const {
  const YAML::Node& map = node_;
  return map[key].IsDefined() && !map[key].IsNull();
}

YAML::Node MapReader::get(const std::string& key, bool required, const char* what) {
  used_.insert(key);
  const YAML::Node& map = node_;  // const access: operator[] must not insert the key
  YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) {
    if (required) fail(key, std::string("missing required key (") + what + ")");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return value;
}

double MapReader::quantity(const std::string& key, UnitKind kind, std::optional<double> fallback) {
  YAML::Node v = get(key, !fallback, unit_kind_name(kind).c_str());
  if (!v.IsDefined()) return *fallback;
  if (!v.IsScalar()) fail(key, "expected " + unit_kind_name(kind) + " like " + unit_kind_example(kind));
  double value = 0;
  try {
    value = parse_quantity(v.Scalar(), kind);
  } catch (const Error& e) {
    fail(key, e.what());
  }
  if (!(value > 0)) fail(key, "must be positive, got '" + clipped(v.Scalar()) + "'");
  return value;
}

int64_t MapReader::integer(const std::string& key, int64_t min, int64_t max, std::optional<int64_t> fallback) {
  YAML::Node v = get(key, !fallback, "an integer");
  if (!v.IsDefined()) return *fallback;
  int64_t value = 0;
  bool ok = v.IsScalar(), overflow = false;
  if (ok) {
    const std::string& s = v.Scalar();
    size_t pos = 0;
    try {
      value = std::stoll(s, &pos, 10);
      ok = pos == s.size();
    } catch (const std::out_of_range&) {  // all digits, but beyond 64 bits
      overflow = s.find_first_not_of("+-0123456789") == std::string::npos;
      ok = false;
    } catch (const std::exception&) {
      ok = false;
    }
  }
  const std::string range = "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (overflow) fail(key, "value " + shown(v) + " is out of range " + range);
  if (!ok) fail(key, "expected an integer, got '" + shown(v) + "'");
  if (value < min || value > max) fail(key, "value " + std::to_string(value) + " is out of range " + range);
  return value;
}

double MapReader::number(const std::string& key, double min, double max, std::optional<double> fallback) {
  YAML::Node v = get(key, !fallback, "a number");
  if (!v.IsDefined()) return *fallback;
  double value = 0;
  bool ok = v.IsScalar();
  if (ok) {
    size_t pos = 0;
    try {
      value = std::stod(v.Scalar(), &pos);
      ok = pos == v.Scalar().size() && std::isfinite(value);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok) fail(key, "expected a plain number, got '" + shown(v) + "'");
  if (value < min || value > max) {
    fail(key, "value " + shown(v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return value;
}

bool MapReader::boolean(const std::string& key, std::optional<bool> fallback) {
  YAML::Node v = get(key, !fallback, "true or false");
  if (!v.IsDefined()) return *fallback;
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  fail(key, "expected true or false");
}

std::string MapReader::string(const std::string& key, std::optional<std::string> fallback) {
  YAML::Node v = get(key, !fallback, "a string");
  if (!v.IsDefined()) return *fallback;
  if (!v.IsScalar()) fail(key, "expected a string");
  return v.Scalar();
}

std::string MapReader::choice(const std::string& key, const std::vector<std::string>& allowed,
                              std::optional<std::string> fallback) {
  const std::string value = string(key, std::move(fallback));
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    std::string hint = nearest_name(value, allowed);
    fail(key, "unknown value '" + clipped(value) + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; valid: " + join_names(allowed));
  }
  return value;
}

std::vector<int64_t> MapReader::integer_list(const std::string& key, int64_t min, int64_t max,
                                             std::optional<std::vector<int64_t>> fallback) {
  YAML::Node v = get(key, !fallback, "a list of integers");
  if (!v.IsDefined()) return *fallback;
  if (!v.IsSequence() || v.size() == 0) fail(key, "expected a non-empty list of integers, like [512, 1024]");
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) {
    YAML::Node wrapped;
    wrapped[key] = v[i];
    MapReader item(wrapped, where_);
    out.push_back(item.integer(key, min, max));
  }
  return out;
}

MapReader MapReader::map(const std::string& key) {
  YAML::Node v = get(key, false, "a mapping");
  std::string sub = where_ + (where_.empty() ? "" : ": ") + key;
  if (v && !v.IsMap()) fail(key, "expected a mapping of 'key: value' lines");
  return MapReader(v, sub);
}

std::vector<MapReader> MapReader::map_list(const std::string& key) {
  YAML::Node v = get(key, true, "a list of mappings");
  if (!v.IsSequence() || v.size() == 0) fail(key, "expected a non-empty list of mappings");
  std::vector<MapReader> out;
  for (size_t i = 0; i < v.size(); ++i) {
    out.emplace_back(v[i], where_ + ": " + key + "[" + std::to_string(i) + "]");
  }
  return out;
}

void MapReader::allow(const std::string& key) { used_.insert(key); }

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

void MapReader::finish() const {
  std::vector<std::string> known(used_.begin(), used_.end());
  for (const auto& kv : node_) {
    const std::string key = kv.first.as<std::string>();
    if (used_.count(key)) continue;
    std::string hint = nearest_name(key, known);
    throw Error(where_ + (where_.empty() ? "" : ": ") + "unknown key '" + clipped(key) + "'" +
                (hint.empty() ? "" : " (did you mean '" + hint + "'?)") + "; valid keys here: " + join_names(known));
  }
}

YAML::Node load_yaml_string(const std::string& text, const std::string& name) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(name + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
  }
}

YAML::Node load_yaml_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(path + ": no such file (check the path; configs live in hw-configs/, workloads in workloads/)");
  }
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error(path + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
  }
}

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        const auto a = static_cast<unsigned char>(word[i - 1]), b = static_cast<unsigned char>(c[j - 1]);
        size_t sub = prev[j - 1] + (std::tolower(a) == std::tolower(b) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_distance) {
      best_distance = prev[c.size()];
      best = c;
    }
  }
  // Close enough to be a typo: at most a third of the word's letters differ.
  if (best_distance <= std::max<size_t>(2, word.size() / 3)) return best;
  return "";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

}  // namespace attnsim

#include "sim/core/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "sim/core/error.h"

namespace attnsim {
namespace {

using Suffixes = std::vector<std::pair<std::string, double>>;

const Suffixes& suffixes(UnitKind kind) {
  static const Suffixes bytes = {{"B", 1},          {"KB", 1e3},          {"MB", 1e6},
                                 {"GB", 1e9},       {"TB", 1e12},         {"KiB", 1024.0},
                                 {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  static const Suffixes bandwidth = {{"B/s", 1},   {"KB/s", 1e3},      {"MB/s", 1e6},
                                     {"GB/s", 1e9}, {"TB/s", 1e12},    {"KiB/s", 1024.0},
                                     {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}};
  static const Suffixes frequency = {{"Hz", 1}, {"kHz", 1e3}, {"MHz", 1e6}, {"GHz", 1e9}};
  static const Suffixes time = {{"h", 3600},   {"min", 60},   {"s", 1},        {"ms", 1e-3},
                                {"us", 1e-6}, {"ns", 1e-9}, {"ps", 1e-12}};
  static const Suffixes power = {{"W", 1}, {"kW", 1e3}, {"mW", 1e-3}};
  static const Suffixes area = {{"um2", 1e-12}, {"mm2", 1e-6}, {"cm2", 1e-4}};
  switch (kind) {
    case UnitKind::bytes: return bytes;
    case UnitKind::bandwidth: return bandwidth;
    case UnitKind::frequency: return frequency;
    case UnitKind::time: return time;
    case UnitKind::power: return power;
    case UnitKind::area: return area;
  }
  return bytes;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string format_scaled(double value, const char* unit, double base) {
  static const char* prefixes[] = {"", "K", "M", "G", "T", "P"};
  int i = 0;
  double v = value;
  while (std::fabs(v) >= base && i < 5) {
    v /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", v, prefixes[i], unit);
  return buf;
}

}  // namespace

std::string unit_kind_name(UnitKind kind) {
  switch (kind) {
    case UnitKind::bytes: return "a size";
    case UnitKind::bandwidth: return "a bandwidth";
    case UnitKind::frequency: return "a frequency";
    case UnitKind::time: return "a time";
    case UnitKind::power: return "a power";
    case UnitKind::area: return "an area";
  }
  return "a quantity";
}

std::string unit_kind_example(UnitKind kind) {
  switch (kind) {
    case UnitKind::bytes: return "'50MiB' or '80GB'";
    case UnitKind::bandwidth: return "'3.35TB/s' or '900GB/s'";
    case UnitKind::frequency: return "'1830MHz' or '1.83GHz'";
    case UnitKind::time: return "'4us' or '700ns'";
    case UnitKind::power: return "'700W'";
    case UnitKind::area: return "'0.5mm2' or '20000um2'";
  }
  return "";
}

double parse_quantity(const std::string& raw, UnitKind kind) {
  const std::string text = trim(raw);
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw Error("'" + clipped(raw) + "' is not " + unit_kind_name(kind) + "; write it like " +
                unit_kind_example(kind));
  }
  const std::string unit = trim(text.substr(pos));
  if (unit.empty()) {
    throw Error("'" + clipped(raw) + "' has no unit; " + unit_kind_name(kind) + " needs one, like " +
                unit_kind_example(kind));
  }
  for (const auto& [suffix, scale] : suffixes(kind)) {
    if (unit == suffix) {
      // Checked after scaling too: "1e308TB" overflows to infinity only then.
      if (!std::isfinite(value) || !std::isfinite(value * scale)) {
        throw Error("'" + clipped(raw) + "' is not a finite number");
      }
      return value * scale;
    }
  }
  throw Error("'" + clipped(raw) + "' has unit '" + clipped(unit) + "', but " + unit_kind_name(kind) +
              " is expected, like " + unit_kind_example(kind));
}

std::string format_bytes(double bytes) { return format_scaled(bytes, "B", 1000.0); }
std::string format_bandwidth(double bytes_per_s) { return format_scaled(bytes_per_s, "B/s", 1000.0); }
std::string format_time(double seconds) {
  char buf[64];
  if (seconds >= 3600) std::snprintf(buf, sizeof buf, "%.3g h", seconds / 3600);
  else if (seconds >= 60) std::snprintf(buf, sizeof buf, "%.3g min", seconds / 60);
  else if (seconds >= 1) std::snprintf(buf, sizeof buf, "%.3g s", seconds);
  else if (seconds >= 1e-3) std::snprintf(buf, sizeof buf, "%.3g ms", seconds * 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g us", seconds * 1e6);
  return buf;
}

}  // namespace attnsim

// The one place where unit-bearing strings from configs become numbers.
// Values are returned in SI base units: bytes, bytes/s, Hz, seconds, watts, square metres.
#pragma once

#include <string>

namespace attnsim {

enum class UnitKind { bytes, bandwidth, frequency, time, power, area };

// Parses e.g. "50MiB", "3.35TB/s", "1830MHz", "4us", "700W", "0.5mm2".
// Throws attnsim::Error naming the expected kind and an example on mismatch.
double parse_quantity(const std::string& text, UnitKind kind);

std::string unit_kind_name(UnitKind kind);
std::string unit_kind_example(UnitKind kind);

// Human-readable rendering for reports, e.g. 3.35e12 -> "3.35 TB/s".
std::string format_bytes(double bytes);
std::string format_bandwidth(double bytes_per_s);
std::string format_time(double seconds);

}  // namespace attnsim

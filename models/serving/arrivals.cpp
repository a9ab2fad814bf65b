#include "models/serving/arrivals.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

uint64_t Rng::next() {
  uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
double Rng::exponential(double rate) { return -std::log1p(-uniform()) / rate; }
double Rng::normal() {
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

LengthDistribution parse_length_distribution(const std::string& text, const std::string& flag) {
  const std::string usage = flag + " '" + text + "': expected fixed:N, uniform:A,B or lognormal:MEDIAN,SIGMA";
  const size_t colon = text.find(':');
  if (colon == std::string::npos) throw Error(usage);
  LengthDistribution d;
  d.kind = text.substr(0, colon);
  std::vector<double> v;
  std::stringstream ss(text.substr(colon + 1));
  for (std::string part; std::getline(ss, part, ',');) {
    size_t used = 0;
    double x = 0;
    try {
      x = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || !std::isfinite(x)) throw Error(usage);
    v.push_back(x);
  }
  const size_t want = d.kind == "fixed" ? 1 : 2;
  if ((d.kind != "fixed" && d.kind != "uniform" && d.kind != "lognormal") || v.size() != want) throw Error(usage);
  d.a = v[0];
  d.b = want == 2 ? v[1] : 0;
  if (d.a < 1 || (d.kind == "uniform" && d.b < d.a) || (d.kind == "lognormal" && !(d.b >= 0 && d.b <= 4))) {
    throw Error(flag + " '" + text + "': lengths must be >= 1 (uniform: A <= B; lognormal: 0 <= SIGMA <= 4)");
  }
  return d;
}

int64_t draw_length(const LengthDistribution& d, Rng& rng) {
  double x = d.a;
  if (d.kind == "uniform") x = std::floor(d.a + rng.uniform() * (d.b - d.a + 1));
  if (d.kind == "lognormal") x = std::round(d.a * std::exp(d.b * rng.normal()));
  return std::clamp<int64_t>(static_cast<int64_t>(x), 1, d.max_tokens);
}

std::vector<Request> poisson_requests(double rate_per_s, double duration_s, const LengthDistribution& prompt,
                                      const LengthDistribution& output, uint64_t seed) {
  if (!(rate_per_s > 0) || !(duration_s > 0)) throw Error("the arrival rate and the duration must be positive");
  Rng rng(seed);
  std::vector<Request> out;
  for (double t = rng.exponential(rate_per_s); t < duration_s; t += rng.exponential(rate_per_s)) {
    Request r;
    r.id = static_cast<int64_t>(out.size());
    r.arrival_s = t;
    r.prompt_tokens = draw_length(prompt, rng);
    r.output_tokens = draw_length(output, rng);
    out.push_back(r);
  }
  return out;
}

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) {
    const size_t a = f.find_first_not_of(" \t\r"), b = f.find_last_not_of(" \t\r");
    out.push_back(a == std::string::npos ? "" : f.substr(a, b - a + 1));
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// Whole-field numbers only ("12x" and "" are errors).
template <class T>
bool parse_field(const std::string& f, T& v) {
  std::istringstream in(f);
  std::string rest;
  return !f.empty() && (in >> v) && !(in >> rest);
}

}  // namespace

std::vector<Request> load_request_trace(const std::string& path, const std::vector<std::string>& pattern_names) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the request trace");
  std::string line;
  const std::string base = "arrival_s,prompt_tokens,output_tokens";
  if (!std::getline(in, line) || line.rfind(base, 0) != 0) {
    throw Error(path + ":1: expected the header '" + base + "' (optionally ',pattern')");
  }
  const std::vector<std::string> header = split_csv(line);
  const bool with_pattern = header.size() == 4 && header[3] == "pattern";
  if (header.size() != 3 && !with_pattern) throw Error(path + ":1: expected the header '" + base + "' (optionally ',pattern')");
  if (with_pattern && pattern_names.empty()) {
    throw Error(path + ": the trace names a pattern per request; give --pattern-mix with entries of those names");
  }
  const std::string form = with_pattern ? base + ",pattern" : base;
  std::vector<Request> out;
  for (int64_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    const std::string at = path + ":" + std::to_string(n) + ": ";
    const std::vector<std::string> f = split_csv(line);
    Request r;
    if (f.size() != header.size() || !parse_field(f[0], r.arrival_s) || !parse_field(f[1], r.prompt_tokens) ||
        !parse_field(f[2], r.output_tokens)) {
      throw Error(at + "expected '" + form + "', got '" + line + "'");
    }
    if (!(r.arrival_s >= 0) || r.prompt_tokens < 1 || r.output_tokens < 1) throw Error(at + "arrival must be >= 0 and token counts >= 1");
    if (with_pattern && !f[3].empty()) {
      const auto it = std::find(pattern_names.begin(), pattern_names.end(), f[3]);
      if (it == pattern_names.end()) {
        throw Error(at + "pattern '" + f[3] + "' is not an entry of the pattern mix (entries: " + join_names(pattern_names) + ")");
      }
      r.pattern = static_cast<int>(it - pattern_names.begin());
    }
    if (!out.empty() && r.arrival_s < out.back().arrival_s) throw Error(at + "arrivals must not decrease");
    r.id = static_cast<int64_t>(out.size());
    out.push_back(r);
  }
  if (out.empty()) throw Error(path + ": the trace holds no requests");
  return out;
}

}  // namespace attnsim

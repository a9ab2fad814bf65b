// The requests a serving run sees: Poisson arrivals with prompt and output lengths drawn
// from simple distributions, or a trace file. Seeded and platform-independent (own
// 64-bit generator and transforms, no std:: distributions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnsim {

struct Request {
  int64_t id = 0;
  double arrival_s = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;  // >= 1: the first comes out of the prefill
  int pattern = -1;           // pattern class (models/serving/pattern_mix.h); < 0: class 0 until drawn from a mix
};

// "fixed:N", "uniform:A,B" (inclusive) or "lognormal:MEDIAN,SIGMA"; values clipped to [1, max].
struct LengthDistribution {
  std::string kind = "fixed";
  double a = 1, b = 0;
  int64_t max_tokens = int64_t{1} << 24;
};
LengthDistribution parse_length_distribution(const std::string& text, const std::string& flag);

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
  uint64_t next();                   // splitmix64
  double uniform();                  // [0, 1), 53 bits
  double exponential(double rate);   // mean 1 / rate
  double normal();                   // Box-Muller
 private:
  uint64_t s_;
};

int64_t draw_length(const LengthDistribution& d, Rng& rng);

// Arrivals at `rate_per_s` over [0, duration_s).
std::vector<Request> poisson_requests(double rate_per_s, double duration_s, const LengthDistribution& prompt,
                                      const LengthDistribution& output, uint64_t seed);
// A CSV trace: header "arrival_s,prompt_tokens,output_tokens" (optionally ",pattern"), then
// one request per line, arrivals non-decreasing. A pattern names an entry of
// `pattern_names` (the pattern mix; empty = no mix, so no pattern column); an empty
// pattern field leaves the request to be drawn from the mix. Errors name the file and line.
std::vector<Request> load_request_trace(const std::string& path, const std::vector<std::string>& pattern_names = {});

}  // namespace attnsim

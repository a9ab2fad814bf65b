// Fixed-seed hashing for deterministic draws (patterns, inputs, the L2 replay's sampling).
#pragma once

#include <cstdint>

namespace attnsim {

// splitmix64 finaliser: a bijective, well-mixed hash (inline: patterns hash every block pair).
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A deterministic uniform draw in (0, 1) for counter n.
inline double unit_uniform(uint64_t n) { return (static_cast<double>(mix64(n) >> 11) + 0.5) * 0x1.0p-53; }

}  // namespace attnsim

// Experimental (README.md): a set-associative cache at block granularity, LRU or RRIP.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "sim/core/hash.h"

struct SetCacheParams {
  double capacity_bytes = 26.2e6;
  double block_bytes = 4096;
  int ways = 16;
  int rrpv_max = 3;          // 2^M - 1; 0 = exact LRU
  int insert_rrpv = 2;       // new lines
  int hit_rrpv = 0;          // promoted on hit; -1 = one step
  uint64_t page_blocks = 0;  // blocks of one page: a page starts at a hashed set, its blocks follow
  bool hash_blocks = false;  // with page_blocks 0: every block at a hashed set (else by address)
};

// The set mapping from the environment (SET_PAGE_BLOCKS, SET_HASH), read once by each caller.
inline void read_set_env(SetCacheParams& p) {
  if (const char* e = std::getenv("SET_PAGE_BLOCKS")) p.page_blocks = std::strtoull(e, nullptr, 10);
  p.hash_blocks = std::getenv("SET_HASH") != nullptr;
}

class SetCache {
 public:
  explicit SetCache(SetCacheParams p) : p_(p) {
    sets_ = std::max<int64_t>(1, std::llround(p.capacity_bytes / p.block_bytes / p.ways));
    tag_.assign(sets_ * p.ways, 0);
    rrpv_.assign(sets_ * p.ways, static_cast<uint8_t>(p.rrpv_max));
    stamp_.assign(sets_ * p.ways, 0);
  }
  // Touches block `addr`; true on a hit.
  bool touch(uint64_t addr) {
    addr += 1;  // tag 0 = empty way
    using attnsim::mix64;
    const uint64_t idx = p_.page_blocks ? mix64(addr / p_.page_blocks) + addr % p_.page_blocks
                                        : p_.hash_blocks ? mix64(addr) : addr;
    const int64_t s = static_cast<int64_t>(idx % static_cast<uint64_t>(sets_));
    uint64_t* t = &tag_[s * p_.ways];
    return p_.rrpv_max == 0 ? touch_lru(t, &stamp_[s * p_.ways], addr) : touch_rrip(t, &rrpv_[s * p_.ways], addr);
  }

 private:
  bool touch_lru(uint64_t* t, uint64_t* stamp, uint64_t addr) {
    ++clock_;
    int victim = 0;
    for (int w = 0; w < p_.ways; ++w) {
      if (t[w] == addr) {
        stamp[w] = clock_;
        return true;
      }
      if (stamp[w] < stamp[victim]) victim = w;
    }
    t[victim] = addr;
    stamp[victim] = clock_;
    return false;
  }
  bool touch_rrip(uint64_t* t, uint8_t* r, uint64_t addr) {
    for (int w = 0; w < p_.ways; ++w) {
      if (t[w] == addr) {
        r[w] = static_cast<uint8_t>(p_.hit_rrpv < 0 ? std::max(0, r[w] - 1) : std::min<int>(r[w], p_.hit_rrpv));
        return true;
      }
    }
    int victim = -1;
    for (int w = 0; w < p_.ways && victim < 0; ++w) {
      if (t[w] == 0) victim = w;
    }
    if (victim < 0) {  // age the set until a line is distant, take the first such way
      const int add = p_.rrpv_max - *std::max_element(r, r + p_.ways);
      for (int w = 0; w < p_.ways; ++w) {
        r[w] = static_cast<uint8_t>(r[w] + add);
        if (victim < 0 && r[w] == p_.rrpv_max) victim = w;
      }
    }
    t[victim] = addr;
    r[victim] = static_cast<uint8_t>(p_.insert_rrpv);
    return false;
  }

  SetCacheParams p_;
  int64_t sets_;
  std::vector<uint64_t> tag_;
  std::vector<uint8_t> rrpv_;
  std::vector<uint64_t> stamp_;
  uint64_t clock_ = 0;
};

// Experimental: a set-associative cache with RRIP replacement at block granularity.
#pragma once
#include <cstdint>
#include <vector>
#include <algorithm>
#include <cmath>
#include <cstdlib>

static const bool kHash = getenv("SET_HASH") != nullptr;
struct SetCacheParams {
  double capacity_bytes = 26.2e6;
  double block_bytes = 4096;
  int ways = 16;
  int rrpv_max = 3;      // 2^M - 1
  int insert_rrpv = 2;   // new lines
  int hit_rrpv = 0;      // promoted on hit
};

class SetCache {
 public:
  explicit SetCache(SetCacheParams p) : p_(p) {
    sets_ = std::max<int64_t>(1, std::llround(p.capacity_bytes / p.block_bytes / p.ways));
    tag_.assign(sets_ * p.ways, 0);
    rrpv_.assign(sets_ * p.ways, static_cast<uint8_t>(p.rrpv_max));
    stamp_.assign(sets_ * p.ways, 0);
  }
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull; x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull; return x ^ (x >> 31);
  }
  // returns true on hit
  bool touch(uint64_t addr) {
    addr += 1;
    static const uint64_t kPage = getenv("SET_PAGE_BLOCKS") ? atoll(getenv("SET_PAGE_BLOCKS")) : 0;
    const uint64_t setidx = kPage ? (mix(addr / kPage) + addr % kPage) : (kHash ? mix(addr) : addr);
    const int64_t s = static_cast<int64_t>(setidx % static_cast<uint64_t>(sets_));
    uint64_t* t = &tag_[s * p_.ways];
    uint8_t* r = &rrpv_[s * p_.ways];
    if (p_.rrpv_max == 0) {  // true LRU by timestamps
      uint64_t* st = &stamp_[s * p_.ways];
      ++clock_;
      int victim = 0;
      for (int w = 0; w < p_.ways; ++w) {
        if (t[w] == addr) { st[w] = clock_; return true; }
        if (st[w] < st[victim]) victim = w;
      }
      t[victim] = addr; st[victim] = clock_;
      return false;
    }
    for (int w = 0; w < p_.ways; ++w) {
      if (t[w] == addr) { r[w] = static_cast<uint8_t>(p_.hit_rrpv < 0 ? std::max(0, r[w] - 1) : std::min<int>(r[w], p_.hit_rrpv)); return true; }
    }
    int victim = -1;
    for (int w = 0; w < p_.ways; ++w) if (t[w] == 0) { victim = w; break; }
    if (victim < 0) {
      int mx = 0;
      for (int w = 0; w < p_.ways; ++w) mx = std::max<int>(mx, r[w]);
      const int add = p_.rrpv_max - mx;
      for (int w = 0; w < p_.ways; ++w) { r[w] = static_cast<uint8_t>(r[w] + add); if (victim < 0 && r[w] == p_.rrpv_max) victim = w; }
    }
    t[victim] = addr;
    r[victim] = static_cast<uint8_t>(p_.insert_rrpv);
    return false;
  }
 private:
  SetCacheParams p_;
  int64_t sets_;
  std::vector<uint64_t> tag_;
  std::vector<uint8_t> rrpv_;
  std::vector<uint64_t> stamp_;
  uint64_t clock_ = 0;
};

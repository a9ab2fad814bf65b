// Replays the l2_survival probes (read once; re-read "same"/"alt") through two partitions.
#include "setcache.h"
#include <cstdio>
#include <cstdlib>
#include <memory>
struct L2 {
  std::vector<std::unique_ptr<SetCache>> part;
  double block;
  L2(SetCacheParams p) : block(p.block_bytes) { for (int i = 0; i < 2; ++i) part.push_back(std::make_unique<SetCache>(p)); }
  // read a buffer [base, base+bytes); side per block from salt; returns DRAM-missed fraction
  double read(uint64_t base, double bytes, uint64_t salt) {
    const int64_t n = static_cast<int64_t>(bytes / block);
    int64_t miss = 0;
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t a = base + i;
      const int side = attnsim::mix64(a ^ salt) & 1, home = (attnsim::mix64(a * 7 + 3) >> 7) & 1;
      bool hit = part[side]->touch(a);
      if (!hit && home != side) hit = part[home]->touch(a);
      miss += !hit;
    }
    return n ? double(miss) / n : 0;
  }
};
int main(int argc, char** argv) {
  SetCacheParams p;
  if (argc > 1) p.capacity_bytes = atof(argv[1]) * 1e6;
  if (argc > 2) p.ways = atoi(argv[2]);
  if (argc > 3) p.rrpv_max = atoi(argv[3]);
  if (argc > 4) p.insert_rrpv = atoi(argv[4]);
  if (argc > 5) p.block_bytes = atof(argv[5]);
  if (argc > 6) p.hit_rrpv = atoi(argv[6]);
  read_set_env(p);
  const double MiB = 1048576.0;
  uint64_t next = 1 << 20;  // block address allocator
  auto alloc = [&](double bytes) { uint64_t b = next; next += static_cast<uint64_t>(bytes / p.block_bytes) + 1; return b; };
  printf("read once (A=4 MiB), F:");
  for (int F : {0, 16, 20, 24, 28, 32, 36, 40, 48}) {
    L2 l2(p);
    l2.read(alloc(256 * MiB), 256 * MiB, 1);
    uint64_t a = alloc(4 * MiB);
    l2.read(a, 4 * MiB, 2);
    if (F) l2.read(alloc(F * MiB), F * MiB, 3);
    printf(" %d:%.3f", F, l2.read(a, 4 * MiB, 4));
  }
  printf("\n   measured: 16:0 24:0.094 32:0.814 40:1.0\n");
  for (int alt = 0; alt < 2; ++alt) {
    printf("%s:", alt ? "alt " : "same");
    for (int A : {16, 32}) for (int f : {1, 4, 8}) {
      L2 l2(p);
      l2.read(alloc(256 * MiB), 256 * MiB, 1);
      uint64_t a = alloc(A * MiB);
      double sum = 0;
      for (int r = 0; r < 12; ++r) {
        double m = l2.read(a, A * MiB, alt ? 100 + r : 2);
        if (r >= 4) sum += m;
        l2.read(alloc(f * MiB), f * MiB, 200 + r);
      }
      printf(" A%d f%d:%.3f", A, f, sum / 8);
    }
    printf("\n");
  }
  printf("   measured same: A16 f1:0 f4:0 f8:0.004 A32 f1:0.012 f4:0.087 f8:0.465\n");
  printf("   measured alt : A16 f1:0 f4:0.003 f8:0.048 A32 f1:0.069 f4:0.190 f8:0.449\n");
}

// Which L2 partition each SM is attached to, and where the block scheduler puts consecutive
// CTAs: the two placement facts behind attnsim's partitioned L2 (docs/gpu-model.md).
//
// 1. SM -> partition. One CTA per SM (large shared memory forces one per SM). The CTA on a
//    reference SM reads every other CTA's private set of cold lines first (from DRAM: each line
//    is installed in its home partition and in the reference's near partition); then each CTA
//    reads its own set, one dependent load at a time, timing each. An SM on the reference's
//    side finds every line in its near partition; an SM on the other side finds only the lines
//    homed there and must fetch the rest over the fabric, so about half of its loads are slow.
//    Done for several reference SMs, so that the sides can be cross-checked.
// 2. CTA placement. A grid of FA2-like CTAs (128 threads, ~100 KB of shared memory, so 2 fit on
//    an SM) records blockIdx -> %smid and its start time.
//
// Prints JSON lines: {"kind":"side", "ref":R, "sm":S, "lat_cycles":[...]} and
// {"kind":"place", "grid":G, "block":B, "sm":S, "start_ns":T}.
//
//   nvcc -O3 -arch=sm_90 -o l2_partition_map l2_partition_map.cu && ./l2_partition_map > map.jsonl
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cuda_util.h"

constexpr int kLines = 64;           // lines per SM's private set
constexpr int kLineStride = 64;      // 4-byte words between lines: 256 B apart, one line each
constexpr int kMaxSms = 256;

__device__ __forceinline__ unsigned smid() {
  unsigned r;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(r));
  return r;
}

__device__ __forceinline__ unsigned load_cg(const unsigned* p) {
  unsigned v;
  asm volatile("ld.global.cg.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

// Sets: set s = words [s * kLines * kLineStride, ...), each word holds 0 (so a chain of
// dependent loads adds 0 to the next address). `order` maps %smid to its set.
__global__ void side_kernel(const unsigned* sets, unsigned ref_sm, int sms, volatile int* ready,
                            int* seen, long long* lat) {
  extern __shared__ char pad[];
  if (threadIdx.x != 0) return;
  pad[0] = 0;
  const unsigned me = smid();
  if (me == ref_sm) {
    unsigned acc = 0;
    for (int s = 0; s < sms; ++s) {
      if (s == static_cast<int>(ref_sm)) continue;
      for (int i = 0; i < kLines; ++i) acc += load_cg(sets + (static_cast<size_t>(s) * kLines + i) * kLineStride + acc);
    }
    __threadfence();
    *ready = 1 + static_cast<int>(acc);  // acc is 0; the dependency keeps the loads before the flag
  } else {
    while (*ready == 0) {
    }
  }
  __threadfence();
  seen[me] = 1;
  // Time the own set, one dependent load after another.
  const unsigned* mine = sets + static_cast<size_t>(me) * kLines * kLineStride;
  unsigned acc = 0;
  for (int i = 0; i < kLines; ++i) {
    const long long t0 = clock64();
    acc += load_cg(mine + static_cast<size_t>(i) * kLineStride + acc);
    const long long t1 = clock64() + acc;  // waits for the load
    lat[static_cast<size_t>(me) * kLines + i] = t1 - t0;
  }
}

__global__ void place_kernel(int* sm_of, unsigned long long* start_ns, uint64_t spin_ns) {
  extern __shared__ char pad[];
  const uint64_t t0 = global_ns();
  if (threadIdx.x == 0) {
    pad[0] = 0;
    sm_of[blockIdx.x] = static_cast<int>(smid());
    start_ns[blockIdx.x] = t0;
  }
  while (global_ns() - t0 < spin_ns) {
  }
}

__global__ void flush_kernel(const int4* buf, size_t n, int* sink) {
  int acc = 0;
  for (size_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    acc ^= buf[i].x;
  }
  if (acc == 12345) *sink = acc;
}

int main() {
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  const int sms = prop.multiProcessorCount;
  if (sms > kMaxSms) return 1;
  fprintf(stderr, "%s, %d SMs, L2 %d B\n", prop.name, sms, prop.l2CacheSize);

  // 1. Sides. Reference SMs spread over the chip.
  const size_t set_words = static_cast<size_t>(kMaxSms) * kLines * kLineStride;
  unsigned* sets;
  CK(cudaMalloc(&sets, set_words * sizeof(unsigned)));
  CK(cudaMemset(sets, 0, set_words * sizeof(unsigned)));
  const size_t junk_n = (512ull << 20) / sizeof(int4);
  int4* junk;
  int *sink, *ready, *seen;
  long long* lat;
  CK(cudaMalloc(&junk, junk_n * sizeof(int4)));
  CK(cudaMemset(junk, 1, junk_n * sizeof(int4)));
  CK(cudaMalloc(&sink, sizeof(int)));
  CK(cudaMalloc(&ready, sizeof(int)));
  CK(cudaMalloc(&seen, kMaxSms * sizeof(int)));
  CK(cudaMalloc(&lat, static_cast<size_t>(kMaxSms) * kLines * sizeof(long long)));
  const int one_per_sm_smem = 200 * 1024;
  CK(cudaFuncSetAttribute(side_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, one_per_sm_smem));
  std::vector<long long> host_lat(static_cast<size_t>(kMaxSms) * kLines);
  std::vector<int> host_seen(kMaxSms);
  for (unsigned ref : {0u, 1u, 2u, 7u, 16u, 33u, 66u, 67u, 100u, 131u}) {
    if (static_cast<int>(ref) >= sms) continue;
    for (int rep = 0; rep < 2; ++rep) {
      flush_kernel<<<sms * 4, 256>>>(junk, junk_n, sink);  // the sets leave L2
      CK(cudaMemset(ready, 0, sizeof(int)));
      CK(cudaMemset(seen, 0, kMaxSms * sizeof(int)));
      flush_kernel<<<sms * 4, 256>>>(junk, junk_n, sink);
      side_kernel<<<sms, 32, one_per_sm_smem>>>(sets, ref, sms, ready, seen, lat);
      CK(cudaDeviceSynchronize());
      CK(cudaMemcpy(host_lat.data(), lat, host_lat.size() * sizeof(long long), cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(host_seen.data(), seen, kMaxSms * sizeof(int), cudaMemcpyDeviceToHost));
      for (int s = 0; s < sms; ++s) {
        if (!host_seen[s]) continue;
        printf("{\"kind\": \"side\", \"ref\": %u, \"rep\": %d, \"sm\": %d, \"lat_cycles\": [", ref, rep, s);
        for (int i = 0; i < kLines; ++i) printf("%s%lld", i ? ", " : "", host_lat[static_cast<size_t>(s) * kLines + i]);
        printf("]}\n");
      }
    }
  }

  // 2. Placement of FA2-like CTAs (two per SM by shared memory).
  const int two_per_sm_smem = 100 * 1024;
  CK(cudaFuncSetAttribute(place_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, two_per_sm_smem));
  for (int grid : {sms * 2, 2048}) {
    int* sm_of;
    unsigned long long* start;
    CK(cudaMalloc(&sm_of, grid * sizeof(int)));
    CK(cudaMalloc(&start, grid * sizeof(unsigned long long)));
    for (int rep = 0; rep < 2; ++rep) {
      place_kernel<<<grid, 128, two_per_sm_smem>>>(sm_of, start, 20000);
      CK(cudaDeviceSynchronize());
      std::vector<int> h_sm(grid);
      std::vector<unsigned long long> h_start(grid);
      CK(cudaMemcpy(h_sm.data(), sm_of, grid * sizeof(int), cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(h_start.data(), start, grid * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
      unsigned long long t0 = h_start[0];
      for (int b = 0; b < grid; ++b) t0 = h_start[b] < t0 ? h_start[b] : t0;
      for (int b = 0; b < grid; ++b) {
        printf("{\"kind\": \"place\", \"grid\": %d, \"rep\": %d, \"block\": %d, \"sm\": %d, \"start_ns\": %llu}\n", grid,
               rep, b, h_sm[b], h_start[b] - t0);
      }
    }
    CK(cudaFree(sm_of));
    CK(cudaFree(start));
  }
  return 0;
}

// Loaded DRAM latency: one thread pointer-chases through a 256 MiB random cycle (every hop
// an L2 miss) while a streaming kernel on the other SMs reads a 2 GiB buffer at a chosen
// intensity. Prints one JSON line per load level: achieved stream bandwidth and the
// chaser's latency per hop (ns and SM cycles). attnsim uses the curve for the latency a
// CTA sees at a given DRAM utilisation (docs/gpu-model.md).
//
//   nvcc -O3 -arch=sm_90 -o loaded_latency loaded_latency.cu && ./loaded_latency > loaded_latency.jsonl
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <vector>
#include <algorithm>
#include <random>
#include <cuda_runtime.h>

#include "cuda_util.h"

// Streams int4 loads over the buffer until `run_ns` has passed; `gap_ns` throttles.
__global__ void stream_kernel(const int4* __restrict__ buf, size_t n, uint64_t run_ns, unsigned gap_ns,
                              unsigned long long* bytes, int* sink) {
  const uint64_t t0 = global_ns();
  size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  const size_t stride = (size_t)gridDim.x * blockDim.x;
  int acc = 0;
  unsigned long long done = 0;
  while (global_ns() - t0 < run_ns) {
#pragma unroll
    for (int u = 0; u < 4; ++u) {
      const int4 v = __ldcg(buf + (i % n));
      acc ^= v.x ^ v.w;
      i += stride;
    }
    done += 4 * sizeof(int4);
    if (gap_ns) __nanosleep(gap_ns);
  }
  atomicAdd(bytes, done);
  if (acc == 0x7fffffff) *sink = acc;
}

// One thread: waits `delay_ns` (let the stream reach steady state), then chases `hops` pointers.
__global__ void chase_kernel(const unsigned* __restrict__ next, unsigned start, int hops, uint64_t delay_ns,
                             long long* cycles, unsigned long long* ns, unsigned* sink) {
  const uint64_t w0 = global_ns();
  while (global_ns() - w0 < delay_ns) {
  }
  unsigned p = start;
  for (int h = 0; h < 64; ++h) p = __ldcg(next + p);  // warm the TLB path a little
  const long long c0 = clock64();
  const uint64_t t0 = global_ns();
  for (int h = 0; h < hops; ++h) p = __ldcg(next + p);
  const long long c1 = clock64();
  const uint64_t t1 = global_ns();
  *cycles = c1 - c0;
  *ns = t1 - t0;
  *sink = p;
}

int main() {
  const size_t chase_bytes = 256ull << 20, line = 128;  // one pointer per 128 B line
  const size_t slots = chase_bytes / line;
  const unsigned words_per_line = line / sizeof(unsigned);
  std::vector<unsigned> order(slots);
  for (size_t i = 0; i < slots; ++i) order[i] = (unsigned)i;
  std::mt19937_64 rng(12345);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<unsigned> next(chase_bytes / sizeof(unsigned), 0);
  for (size_t i = 0; i < slots; ++i) {
    next[(size_t)order[i] * words_per_line] = order[(i + 1) % slots] * words_per_line;
  }
  unsigned* d_next;
  CK(cudaMalloc(&d_next, chase_bytes));
  CK(cudaMemcpy(d_next, next.data(), chase_bytes, cudaMemcpyHostToDevice));

  const size_t stream_bytes = 2ull << 30;
  int4* d_buf;
  CK(cudaMalloc(&d_buf, stream_bytes));
  CK(cudaMemset(d_buf, 1, stream_bytes));
  unsigned long long *d_bytes, *d_ns;
  long long* d_cycles;
  int* d_sink;
  unsigned* d_sink2;
  CK(cudaMalloc(&d_bytes, 8));
  CK(cudaMalloc(&d_ns, 8));
  CK(cudaMalloc(&d_cycles, 8));
  CK(cudaMalloc(&d_sink, 4));
  CK(cudaMalloc(&d_sink2, 4));
  cudaStream_t sa, sb;
  CK(cudaStreamCreateWithFlags(&sa, cudaStreamNonBlocking));
  CK(cudaStreamCreateWithFlags(&sb, cudaStreamNonBlocking));
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));

  const uint64_t run_ns = 20000000;  // 20 ms of streaming per level
  const int hops = 4000;
  struct Level { int blocks; unsigned gap_ns; };
  std::vector<Level> levels = {{0, 0}};
  const int per_sm_blocks[] = {1, 2, 4};
  const unsigned gaps[] = {4000, 2000, 1000, 500, 250, 0};
  for (int b : per_sm_blocks) {
    for (unsigned g : gaps) levels.push_back({b * (sms - 1), g});
  }
  for (int rep = 0; rep < 2; ++rep) {
    for (const Level& lv : levels) {
      CK(cudaMemset(d_bytes, 0, 8));
      CK(cudaDeviceSynchronize());
      // The chaser goes first so it has an SM; the stream fills the others.
      chase_kernel<<<1, 1, 0, sb>>>(d_next, order[0] * words_per_line, hops, lv.blocks ? run_ns / 4 : 0, d_cycles,
                                    d_ns, d_sink2);
      cudaEvent_t e0, e1;
      CK(cudaEventCreate(&e0));
      CK(cudaEventCreate(&e1));
      CK(cudaEventRecord(e0, sa));
      if (lv.blocks) {
        stream_kernel<<<lv.blocks, 256, 0, sa>>>(d_buf, stream_bytes / sizeof(int4), run_ns, lv.gap_ns, d_bytes,
                                                 d_sink);
      }
      CK(cudaEventRecord(e1, sa));
      CK(cudaDeviceSynchronize());
      float ms = 0;
      CK(cudaEventElapsedTime(&ms, e0, e1));
      unsigned long long bytes = 0, ns = 0;
      long long cycles = 0;
      CK(cudaMemcpy(&bytes, d_bytes, 8, cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(&ns, d_ns, 8, cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(&cycles, d_cycles, 8, cudaMemcpyDeviceToHost));
      const double gbps = lv.blocks ? bytes / (run_ns * 1e-9) / 1e9 : 0.0;
      printf("{\"gpu\": \"%s\", \"rep\": %d, \"stream_blocks\": %d, \"gap_ns\": %u, \"stream_gbps\": %.1f, "
             "\"stream_kernel_ms\": %.3f, \"chase_hops\": %d, \"latency_ns\": %.1f, \"latency_cycles\": %.1f, "
             "\"sm_clock_mhz\": %.0f}\n",
             prop.name, rep, lv.blocks, lv.gap_ns, gbps, ms, hops, (double)ns / hops, (double)cycles / hops,
             ns ? 1e3 * (double)cycles / (double)ns : 0.0);
      fflush(stdout);
      CK(cudaEventDestroy(e0));
      CK(cudaEventDestroy(e1));
    }
  }
  return 0;
}

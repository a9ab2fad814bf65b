// Shared by the microbenchmarks in this folder (each still builds alone with one nvcc line:
// the header sits beside them).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

// Stops with the file, line and CUDA error of a failed runtime call.
#define CK(x)                                                                     \
  do {                                                                            \
    cudaError_t e = (x);                                                          \
    if (e != cudaSuccess) {                                                       \
      fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e));  \
      exit(1);                                                                    \
    }                                                                             \
  } while (0)

// The GPU's global nanosecond timer (comparable across SMs).
__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// attnsim H100 microbenchmarks: the CUDA side.
//
// Built by ../microbench.py into a shared library and called through ctypes:
//   nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC -gencode arch=compute_90a,code=sm_90a -DMB_WGMMA -o libmb.so mb.cu
// Every entry point returns a cudaError_t (0 = success) and fills caller-owned arrays.
// Each benchmark times `reps` launches, each between two CUDA events, and returns the
// per-launch milliseconds; the compute kernels also return clock64() spans per SM.
//
// Kernels
//   l2_read / l2_copy   grid-stride 16-byte loads (ld.global.cg: cached in L2 only) over a buffer,
//                       wrapping around it until a target number of bytes has moved
//   mma_sync_kernel     back-to-back mma.sync.m16n8k16 bf16 (f32 accumulate) from registers
//   wgmma_kernel        back-to-back wgmma.mma_async m64nNk16 bf16, both operands in shared memory
//   exp_kernel          chains of ex2.approx (f32 or f16x2)
//   empty_kernel        nothing: launch overhead

#include <cuda_runtime.h>
#include <stdint.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#define CK(x)                                  \
  do {                                         \
    cudaError_t e_ = (x);                      \
    if (e_ != cudaSuccess) return (int)e_;     \
  } while (0)

static __device__ __forceinline__ unsigned sm_id() {
  unsigned r;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(r));
  return r;
}

static __device__ __forceinline__ unsigned hash32(unsigned x) {
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}

// a bf16x2 word of two values in [-1, 1)
static __device__ __forceinline__ unsigned rand_bf16x2(unsigned seed) {
  unsigned h = hash32(seed);
  float lo = (float)(h & 0xffff) / 32768.0f - 1.0f;
  float hi = (float)(h >> 16) / 32768.0f - 1.0f;
  unsigned ulo = __float_as_uint(lo) >> 16, uhi = __float_as_uint(hi) >> 16;
  return ulo | (uhi << 16);
}

// ------------------------------------------------------------------------------------------
// L2 / HBM bandwidth
// ------------------------------------------------------------------------------------------

constexpr int L2_UNROLL = 8;

// Thread t reads elements t, t+stride, t+2*stride, ... modulo n, k_iters * L2_UNROLL loads in all.
__global__ void __launch_bounds__(256) l2_read_kernel(const int4* __restrict__ buf, unsigned n, unsigned k_iters,
                                                      unsigned* __restrict__ sink) {
  const unsigned stride = gridDim.x * blockDim.x;
  const unsigned tid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned step = stride % n;
  const unsigned stepU = (unsigned)(((unsigned long long)step * L2_UNROLL) % n);
  unsigned idx[L2_UNROLL];
  unsigned i0 = tid % n;
#pragma unroll
  for (int u = 0; u < L2_UNROLL; ++u) {
    idx[u] = i0;
    i0 += step;
    if (i0 >= n) i0 -= n;
  }
  unsigned acc = 0;
  for (unsigned it = 0; it < k_iters; ++it) {
    int4 v[L2_UNROLL];
#pragma unroll
    for (int u = 0; u < L2_UNROLL; ++u) v[u] = __ldcg(buf + idx[u]);
#pragma unroll
    for (int u = 0; u < L2_UNROLL; ++u) {
      acc += (unsigned)(v[u].x ^ v[u].y) + (unsigned)(v[u].z ^ v[u].w);
      idx[u] += stepU;
      if (idx[u] >= n) idx[u] -= n;
    }
  }
  if (acc == 0x9e3779b9u) sink[tid & 1023] = acc;  // practically never: keeps the loads alive
}

__global__ void __launch_bounds__(256) l2_copy_kernel(const int4* __restrict__ src, int4* __restrict__ dst,
                                                      unsigned n, unsigned k_iters) {
  const unsigned stride = gridDim.x * blockDim.x;
  const unsigned tid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned step = stride % n;
  const unsigned stepU = (unsigned)(((unsigned long long)step * L2_UNROLL) % n);
  unsigned idx[L2_UNROLL];
  unsigned i0 = tid % n;
#pragma unroll
  for (int u = 0; u < L2_UNROLL; ++u) {
    idx[u] = i0;
    i0 += step;
    if (i0 >= n) i0 -= n;
  }
  for (unsigned it = 0; it < k_iters; ++it) {
    int4 v[L2_UNROLL];
#pragma unroll
    for (int u = 0; u < L2_UNROLL; ++u) v[u] = __ldcg(src + idx[u]);
#pragma unroll
    for (int u = 0; u < L2_UNROLL; ++u) {
      __stcg(dst + idx[u], v[u]);
      idx[u] += stepU;
      if (idx[u] >= n) idx[u] -= n;
    }
  }
}

__global__ void fill_kernel(unsigned* p, size_t nwords, unsigned seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nwords; i += (size_t)gridDim.x * blockDim.x)
    p[i] = hash32((unsigned)i * 2654435761u + seed);
}

// ------------------------------------------------------------------------------------------
// tensor cores: mma.sync
// ------------------------------------------------------------------------------------------

static __device__ __forceinline__ void mma_bf16_16816(float* c, const unsigned* a, const unsigned* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Records, per warp, clock64() before and after its loop and its SM id.
template <int CHAINS>
__global__ void mma_sync_kernel(int iters, long long* t0, long long* t1, unsigned* smid, float* sink) {
  const unsigned gtid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned warp = gtid >> 5;
  unsigned a[4], b[2];
#pragma unroll
  for (int i = 0; i < 4; ++i) a[i] = rand_bf16x2(gtid * 8 + i);
#pragma unroll
  for (int i = 0; i < 2; ++i) b[i] = rand_bf16x2(gtid * 8 + 4 + i);
  float c[CHAINS][4];
#pragma unroll
  for (int j = 0; j < CHAINS; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) c[j][i] = 0.0f;
  __syncthreads();
  long long s = clock64();
#pragma unroll 2
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int j = 0; j < CHAINS; ++j) mma_bf16_16816(c[j], a, b);
  }
  long long e = clock64();
  float acc = 0.0f;
#pragma unroll
  for (int j = 0; j < CHAINS; ++j) acc += c[j][0] + c[j][1] + c[j][2] + c[j][3];
  if ((threadIdx.x & 31) == 0) {
    t0[warp] = s;
    t1[warp] = e;
    smid[warp] = sm_id();
  }
  if (acc == 1234.5f) sink[0] = acc;
}

// ------------------------------------------------------------------------------------------
// special-function unit: ex2
// ------------------------------------------------------------------------------------------

// MODE 0: ex2.approx.ftz.f32, x = 2^-x (stays in (0.5, 1)); MODE 1: ex2.approx.f16x2 (2 results per instruction)
template <int MODE, int CHAINS>
__global__ void __launch_bounds__(256) exp_kernel(int iters, long long* t0, long long* t1, unsigned* smid,
                                                  float* sink) {
  const unsigned gtid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned warp = gtid >> 5;
  float x[CHAINS];
  unsigned h[CHAINS];
#pragma unroll
  for (int j = 0; j < CHAINS; ++j) {
    x[j] = 0.25f + 0.5f * (float)(hash32(gtid * CHAINS + j) & 0xffff) / 65536.0f;
    // two f16 values in (0.25, 0.75): 0x3400 = 0.25
    h[j] = (0x3400u + (hash32(gtid + j) & 0x3ffu)) * 0x00010001u;
  }
  __syncthreads();
  long long s = clock64();
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int j = 0; j < CHAINS; ++j) {
      if (MODE == 0) {
        asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(x[j]) : "f"(-x[j]));
      } else {
        // negate both halves (flip sign bits), then 2^v
        unsigned neg = h[j] ^ 0x80008000u;
        asm volatile("ex2.approx.f16x2 %0, %1;" : "=r"(h[j]) : "r"(neg));
      }
    }
  }
  long long e = clock64();
  float acc = 0.0f;
#pragma unroll
  for (int j = 0; j < CHAINS; ++j) acc += x[j] + (float)h[j];
  if ((threadIdx.x & 31) == 0) {
    t0[warp] = s;
    t1[warp] = e;
    smid[warp] = sm_id();
  }
  if (acc == 1234.5f) sink[0] = acc;
}

__global__ void empty_kernel() {}

// ------------------------------------------------------------------------------------------
// tensor cores: wgmma (sm_90a only)
// ------------------------------------------------------------------------------------------

#ifdef MB_WGMMA
// m64nNk16 bf16 wgmma, both operands in shared memory (operand lists written out by a script)
__device__ __forceinline__ void wgmma_m64n128k16(float* d, uint64_t da, uint64_t db, int scale_d) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
      "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(da), "l"(db), "r"(scale_d));
}

__device__ __forceinline__ void wgmma_m64n256k16(float* d, uint64_t da, uint64_t db, int scale_d) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
      "{"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
      "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
        "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
        "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
        "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
        "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
        "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
        "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(da), "l"(db), "r"(scale_d));
}

// Shared-memory matrix descriptor, no swizzle: start address, leading and stride byte offsets (all >> 4).
static __device__ __forceinline__ uint64_t smem_desc(const void* p, unsigned lbo, unsigned sbo) {
  uint32_t addr = (uint32_t)__cvta_generic_to_shared(p);
  uint64_t d = 0;
  d |= (uint64_t)((addr & 0x3FFFF) >> 4);
  d |= (uint64_t)((lbo >> 4) & 0x3FFF) << 16;
  d |= (uint64_t)((sbo >> 4) & 0x3FFF) << 32;
  return d;  // base offset 0, layout type 0 (no swizzle)
}

// Each warpgroup issues 4 wgmma (k = 64) per commit group and keeps one group in flight, like a GEMM main loop.
// A (64 x 16) and B (N x 16) are K-major core matrices of 8 rows x 16 bytes: LBO 128 B (next 8 k), SBO 256 B
// (next 8 rows). The values are random bf16; the products are not checked (only the rate matters here).
template <int N>
__global__ void __launch_bounds__(256, 1) wgmma_kernel(int iters, long long* t0, long long* t1, unsigned* smid,
                                                       float* sink) {
  __shared__ __align__(1024) unsigned sa[64 * 16 / 2];
  __shared__ __align__(1024) unsigned sb[256 * 16 / 2];
  const unsigned gtid = blockIdx.x * blockDim.x + threadIdx.x;
  const unsigned warp = gtid >> 5;
  for (unsigned i = threadIdx.x; i < 64 * 16 / 2; i += blockDim.x) sa[i] = rand_bf16x2(i * 3 + 1);
  for (unsigned i = threadIdx.x; i < 256 * 16 / 2; i += blockDim.x) sb[i] = rand_bf16x2(i * 7 + 5);
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const uint64_t da = smem_desc(sa, 128, 256);
  const uint64_t db = smem_desc(sb, 128, 256);
  float d[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) d[i] = 0.0f;
  long long s = clock64();
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
  for (int it = 0; it < iters; ++it) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (N == 128)
        wgmma_m64n128k16(d, da, db, 1);
      else
        wgmma_m64n256k16(d, da, db, 1);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
  }
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
  long long e = clock64();
  float acc = 0.0f;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) acc += d[i];
  if ((threadIdx.x & 31) == 0) {
    t0[warp] = s;
    t1[warp] = e;
    smid[warp] = sm_id();
  }
  if (acc == 1234.5f) sink[0] = acc;
}
#endif

// ------------------------------------------------------------------------------------------
// host side
// ------------------------------------------------------------------------------------------

static cudaStream_t g_stream = nullptr;
static int g_sms = 0;

static int ensure_init() {
  if (g_stream) return 0;
  int dev = 0;
  CK(cudaGetDevice(&dev));
  CK(cudaDeviceGetAttribute(&g_sms, cudaDevAttrMultiProcessorCount, dev));
  CK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
  return 0;
}

// Times `reps` calls of launch(), each between two events, enqueued back to back.
template <typename F>
static int time_reps(F launch, int reps, float* ms) {
  std::vector<cudaEvent_t> ev(2 * reps);
  for (auto& e : ev) CK(cudaEventCreate(&e));
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(ev[2 * r], g_stream));
    launch();
    CK(cudaGetLastError());
    CK(cudaEventRecord(ev[2 * r + 1], g_stream));
  }
  CK(cudaStreamSynchronize(g_stream));
  for (int r = 0; r < reps; ++r) CK(cudaEventElapsedTime(&ms[r], ev[2 * r], ev[2 * r + 1]));
  for (auto& e : ev) CK(cudaEventDestroy(e));
  return 0;
}

static double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Per SM: span = max(end) - min(start) over its warps; rate = (its warps * ops_per_warp) / span.
static void sm_stats(const std::vector<long long>& t0, const std::vector<long long>& t1,
                     const std::vector<unsigned>& sm, double ops_per_warp, double* rate_med, double* span_med,
                     int* nsm) {
  std::map<unsigned, long long> lo, hi;
  std::map<unsigned, int> cnt;
  for (size_t i = 0; i < sm.size(); ++i) {
    unsigned s = sm[i];
    if (!cnt.count(s)) {
      lo[s] = t0[i];
      hi[s] = t1[i];
      cnt[s] = 0;
    }
    lo[s] = std::min(lo[s], t0[i]);
    hi[s] = std::max(hi[s], t1[i]);
    cnt[s] += 1;
  }
  std::vector<double> rates, spans;
  for (auto& kv : cnt) {
    double span = (double)(hi[kv.first] - lo[kv.first]);
    spans.push_back(span);
    rates.push_back(kv.second * ops_per_warp / span);
  }
  *rate_med = median(rates);
  *span_med = median(spans);
  *nsm = (int)cnt.size();
}

struct WarpClocks {
  long long* t0 = nullptr;
  long long* t1 = nullptr;
  unsigned* sm = nullptr;
  float* sink = nullptr;
  int nwarps = 0;
  int alloc(int n) {
    nwarps = n;
    CK(cudaMalloc(&t0, n * sizeof(long long)));
    CK(cudaMalloc(&t1, n * sizeof(long long)));
    CK(cudaMalloc(&sm, n * sizeof(unsigned)));
    CK(cudaMalloc(&sink, 1024 * sizeof(float)));
    return 0;
  }
  int stats(double ops_per_warp, double* rate_med, double* span_med, int* nsm) {
    std::vector<long long> a(nwarps), b(nwarps);
    std::vector<unsigned> s(nwarps);
    CK(cudaMemcpy(a.data(), t0, nwarps * sizeof(long long), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(b.data(), t1, nwarps * sizeof(long long), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(s.data(), sm, nwarps * sizeof(unsigned), cudaMemcpyDeviceToHost));
    sm_stats(a, b, s, ops_per_warp, rate_med, span_med, nsm);
    return 0;
  }
  ~WarpClocks() {
    cudaFree(t0);
    cudaFree(t1);
    cudaFree(sm);
    cudaFree(sink);
  }
};

extern "C" {

const char* mb_error_string(int e) { return cudaGetErrorString((cudaError_t)e); }

int mb_has_wgmma() {
#ifdef MB_WGMMA
  return 1;
#else
  return 0;
#endif
}

int mb_device(int* sms, int* l2_bytes) {
  CK((cudaError_t)ensure_init());
  int dev = 0;
  CK(cudaGetDevice(&dev));
  *sms = g_sms;
  CK(cudaDeviceGetAttribute(l2_bytes, cudaDevAttrL2CacheSize, dev));
  return 0;
}

// mode 0: read a footprint-sized buffer; mode 1: copy footprint/2 bytes into another footprint/2 bytes.
// bytes_per_rep counts bytes read (+ bytes written for the copy).
int mb_l2(int mode, unsigned long long footprint, unsigned long long target_bytes, int reps, float* ms,
          double* bytes_per_rep, int* grid_out, int* threads_out) {
  CK((cudaError_t)ensure_init());
  const int threads = 256;
  int per_sm = 0;
  if (mode == 0)
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, l2_read_kernel, threads, 0));
  else
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, l2_copy_kernel, threads, 0));
  const int grid = per_sm * g_sms;
  const unsigned long long stride = (unsigned long long)grid * threads;
  const unsigned long long buf_bytes = mode == 0 ? footprint : footprint / 2;
  const unsigned n = (unsigned)(buf_bytes / 16);
  const double per_iter = (double)stride * L2_UNROLL * 16.0 * (mode == 0 ? 1 : 2);
  unsigned k = (unsigned)std::max(1.0, (double)target_bytes / per_iter + 0.5);
  int4 *a = nullptr, *b = nullptr;
  unsigned* sink = nullptr;
  CK(cudaMalloc(&a, buf_bytes));
  CK(cudaMalloc(&sink, 4096));
  fill_kernel<<<1024, 256, 0, g_stream>>>((unsigned*)a, buf_bytes / 4, 17);
  if (mode == 1) {
    CK(cudaMalloc(&b, buf_bytes));
    fill_kernel<<<1024, 256, 0, g_stream>>>((unsigned*)b, buf_bytes / 4, 29);
  }
  CK(cudaGetLastError());
  auto launch = [&]() {
    if (mode == 0)
      l2_read_kernel<<<grid, threads, 0, g_stream>>>(a, n, k, sink);
    else
      l2_copy_kernel<<<grid, threads, 0, g_stream>>>(a, b, n, k);
  };
  for (int w = 0; w < 3; ++w) launch();  // warm-up (also brings the buffer into L2)
  CK(cudaGetLastError());
  int rc = time_reps(launch, reps, ms);
  *bytes_per_rep = per_iter * k;
  *grid_out = grid;
  *threads_out = threads;
  cudaFree(a);
  cudaFree(b);
  cudaFree(sink);
  return rc;
}

// One block of `warps` warps per SM; each warp runs `chains` independent accumulator chains for `iters` steps.
int mb_mma_sync(int warps, int chains, int iters, int reps, float* ms, double* flop_per_clk_sm,
                double* span_cycles, int* nsm) {
  CK((cudaError_t)ensure_init());
  const int grid = g_sms, threads = warps * 32;
  WarpClocks wc;
  CK((cudaError_t)wc.alloc(grid * warps));
  auto launch = [&]() {
    switch (chains) {
      case 1: mma_sync_kernel<1><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink); break;
      case 2: mma_sync_kernel<2><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink); break;
      case 4: mma_sync_kernel<4><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink); break;
      default: mma_sync_kernel<8><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink); break;
    }
  };
  if (chains != 1 && chains != 2 && chains != 4 && chains != 8) return (int)cudaErrorInvalidValue;
  launch();
  CK(cudaGetLastError());
  CK((cudaError_t)time_reps(launch, reps, ms));
  CK(cudaStreamSynchronize(g_stream));
  return wc.stats((double)chains * iters * 4096.0, flop_per_clk_sm, span_cycles, nsm);
}

int mb_wgmma(int n, int warpgroups, int iters, int reps, float* ms, double* flop_per_clk_sm, double* span_cycles,
             int* nsm) {
#ifdef MB_WGMMA
  CK((cudaError_t)ensure_init());
  if (n != 128 && n != 256) return (int)cudaErrorInvalidValue;
  const int grid = g_sms, threads = warpgroups * 128;
  WarpClocks wc;
  CK((cudaError_t)wc.alloc(grid * warpgroups * 4));
  auto launch = [&]() {
    if (n == 128)
      wgmma_kernel<128><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink);
    else
      wgmma_kernel<256><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink);
  };
  launch();
  CK(cudaGetLastError());
  CK((cudaError_t)time_reps(launch, reps, ms));
  CK(cudaStreamSynchronize(g_stream));
  // per warp: a quarter of each m64nNk16 instruction of its warpgroup, 4 instructions per iteration
  return wc.stats((double)iters * 4 * 2.0 * 64 * n * 16 / 4.0, flop_per_clk_sm, span_cycles, nsm);
#else
  return (int)cudaErrorNotSupported;
#endif
}

// mode 0: ex2.approx.ftz.f32, mode 1: ex2.approx.f16x2. ops = exponentials computed (2 per f16x2 instruction).
int mb_exp(int mode, int chains, int iters, int reps, float* ms, double* ops_per_clk_sm, double* span_cycles,
           int* nsm, int* grid_out) {
  CK((cudaError_t)ensure_init());
  const int threads = 256;
  int per_sm = 0;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, exp_kernel<0, 8>, threads, 0));
  const int grid = per_sm * g_sms;
  WarpClocks wc;
  CK((cudaError_t)wc.alloc(grid * threads / 32));
  auto launch = [&]() {
    if (mode == 0 && chains == 4) exp_kernel<0, 4><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink);
    else if (mode == 0) exp_kernel<0, 8><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink);
    else exp_kernel<1, 8><<<grid, threads, 0, g_stream>>>(iters, wc.t0, wc.t1, wc.sm, wc.sink);
  };
  launch();
  CK(cudaGetLastError());
  CK((cudaError_t)time_reps(launch, reps, ms));
  CK(cudaStreamSynchronize(g_stream));
  *grid_out = grid;
  int ch = (mode == 0 && chains == 4) ? 4 : 8;
  return wc.stats(32.0 * ch * iters * (mode == 1 ? 2 : 1), ops_per_clk_sm, span_cycles, nsm);
}

// mode 0: n empty launches back to back per rep; mode 1: one CUDA graph of n empty kernels per rep;
// mode 2: one launch per rep on an idle GPU (synchronised between reps). ms[r] is per rep (not per launch);
// host_us is the host wall time of the enqueueing, per kernel.
int mb_launch(int mode, int n, int reps, float* ms, double* host_us) {
  CK((cudaError_t)ensure_init());
  std::vector<cudaEvent_t> ev(2 * reps);
  for (auto& e : ev) CK(cudaEventCreate(&e));
  cudaGraphExec_t exec = nullptr;
  cudaGraph_t graph = nullptr;
  if (mode == 1) {
    CK(cudaStreamBeginCapture(g_stream, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < n; ++i) empty_kernel<<<1, 32, 0, g_stream>>>();
    CK(cudaStreamEndCapture(g_stream, &graph));
    CK(cudaGraphInstantiate(&exec, graph, 0));
    for (int w = 0; w < 3; ++w) CK(cudaGraphLaunch(exec, g_stream));
  } else {
    for (int w = 0; w < 100; ++w) empty_kernel<<<1, 32, 0, g_stream>>>();
  }
  CK(cudaStreamSynchronize(g_stream));
  double host_total = 0.0;
  for (int r = 0; r < reps; ++r) {
    CK(cudaEventRecord(ev[2 * r], g_stream));
    auto h0 = std::chrono::steady_clock::now();
    if (mode == 0) {
      for (int i = 0; i < n; ++i) empty_kernel<<<1, 32, 0, g_stream>>>();
    } else if (mode == 1) {
      CK(cudaGraphLaunch(exec, g_stream));
    } else {
      empty_kernel<<<1, 32, 0, g_stream>>>();
    }
    auto h1 = std::chrono::steady_clock::now();
    host_total += std::chrono::duration<double, std::micro>(h1 - h0).count();
    CK(cudaGetLastError());
    CK(cudaEventRecord(ev[2 * r + 1], g_stream));
    if (mode == 2) CK(cudaStreamSynchronize(g_stream));
  }
  CK(cudaStreamSynchronize(g_stream));
  for (int r = 0; r < reps; ++r) CK(cudaEventElapsedTime(&ms[r], ev[2 * r], ev[2 * r + 1]));
  for (auto& e : ev) CK(cudaEventDestroy(e));
  *host_us = host_total / reps / (mode == 2 ? 1 : n);
  if (exec) cudaGraphExecDestroy(exec);
  if (graph) cudaGraphDestroy(graph);
  return 0;
}

// n empty launches, then a synchronise (for a profiler to read their device-side durations)
int mb_empty(int n) {
  CK((cudaError_t)ensure_init());
  for (int i = 0; i < n; ++i) empty_kernel<<<1, 32, 0, g_stream>>>();
  CK(cudaGetLastError());
  CK(cudaStreamSynchronize(g_stream));
  return 0;
}

}  // extern "C"

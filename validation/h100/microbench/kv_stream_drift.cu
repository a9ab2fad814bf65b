// Do identical CTAs stay in step over a long K/V stream? (issue 4: DRAM bytes of long prefill).
// Kernels shaped like non-causal attention without its arithmetic, in two modes:
//
// * `p` (cuDNN-like): one 256-thread CTA per SM; CTA b takes tiles b, b + grid, b + 2 grid, ...
//   (head-major, query blocks of 128 rows fastest), so each round of `grid` tiles covers about one
//   head; steps of 128 keys;
// * `g` (FlashAttention-2-like): one 128-thread CTA per tile of 128 query rows, two CTAs per SM,
//   the hardware's block scheduler handing out the tiles in order; steps of 64 keys;
// * a tile streams its head's K/V in steps of `keys` x d = 128 x bf16 for K and for V, through two
//   shared-memory buffers with cp.async: the next step's load is in flight while this step works;
// * each step spends `work` dependent FMAs per thread on a value of the loaded data, which sets
//   the pace (cuDNN at 128k: about 1.7 us per step);
// * with QO = 1 a tile also loads its 128 query rows (32 KB) first and stores 128 output rows
//   (32 KB) last, the rest of an attention tile's memory traffic;
// * with SPLIT = 1, K and V are two arrays (all heads' K, then all heads' V, as PyTorch passes
//   separate tensors), so a step's K and V blocks lie a power-of-two distance apart when the
//   heads and the length are powers of two; by default each step's K and V are adjacent;
// * FA2's own traits, to find which one sets its DRAM bytes apart: with EXPOSED = 1 a step's load
//   is issued only when the step starts and waited for at once (no prefetch), and SPILL = B makes
//   each thread store and reload B bytes of a private 4B-byte scratch area every step, as
//   register spills go through L2; the area belongs to the CTA's slot on its SM, so the next CTA
//   on that slot reuses it, as local memory is (until 2026-11-28 each CTA had its own area: fresh
//   lines per CTA, which grossly overstated a grid kernel's spill footprint);
// * `b`: `p` with each step's K and V fetched by two bulk copies (cp.async.bulk, the TMA's 1-D
//   copy that cuDNN's Hopper kernels use) issued by one thread and awaited on an mbarrier, instead
//   of 16-byte cp.async by every thread; EXPOSED and SPILL do not apply;
// * causal attention, to test orders cuDNN might use: with CAUSAL = 1 query tile m of a head
//   streams only the keys up to its diagonal, and ORDER picks the schedule: 0 query tiles in grid
//   order and keys first to last, 1 the longest tiles first (m descending), 2 that and keys last
//   to first (FlashAttention-3's order), 3 grid order with keys last to first (FA2's); ORDER + 4
//   hands the persistent CTAs their tiles from an atomic counter (a dynamic scheduler) instead of
//   tiles b, b + grid, ...
//
// With TRACE = FILE it also writes, per tile, its SM and the time of every 16th step and of its
// end (kv_stream_drift.py --trace): the measured timeline that kv_stream_replay replays through
// attnsim's L2 model, so that the cache model is checked apart from the schedule.
//
// It records each tile's start (globaltimer) and each CTA's SM. If the CTAs of a round start
// their tiles together and keep step, a head's K/V comes from DRAM about once per round; if they
// drift apart by more than an L2 partition's worth of K/V, more often (Nsight Compute counts
// the DRAM bytes: kv_stream_drift.py runs it under ncu too).
//
// usage: kv_stream_drift p|g|b HEADS SEQ WORK [QO [SPLIT [EXPOSED [SPILL [CAUSAL [ORDER [TRACE]]]]]]]
//        (one JSON line on stdout)
#include <cuda_pipeline.h>

#include <vector>

#include "cuda_util.h"

namespace {

constexpr int kDim = 128, kQueryRows = 128, kTraceEvery = 16;
constexpr int kMaxSms = 256;  // counter[1 + s]: SM s's spill-slot bitmap

__device__ __forceinline__ unsigned smid() {
  unsigned s;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
  return s;
}

template <int kThreads, int kKeys>
struct Shape {
  static constexpr int kStepVecs = 2 * kKeys * kDim * 2 / 16;  // K and V blocks, bf16, in 16-byte pieces
  static constexpr int kVecsPerThread = kStepVecs / kThreads;
};

template <int kThreads, int kKeys>
__device__ __forceinline__ void load_step(uint4* dst, const uint4* k, const uint4* v) {
  constexpr int kHalf = Shape<kThreads, kKeys>::kStepVecs / 2;  // the K block, then the V block
  for (int i = 0; i < Shape<kThreads, kKeys>::kVecsPerThread; ++i) {
    const int x = i * kThreads + threadIdx.x;
    __pipeline_memcpy_async(dst + x, x < kHalf ? k + x : v + (x - kHalf), 16);
  }
  __pipeline_commit();
}

// mbarrier and bulk-copy helpers (PTX ISA 8.0, sm_90).
__device__ __forceinline__ unsigned smem_addr(const void* p) { return static_cast<unsigned>(__cvta_generic_to_shared(p)); }
__device__ __forceinline__ void bar_init(uint64_t* bar) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(bar)));
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
// Thread 0: `bytes` to arrive on `bar` from two bulk copies of half each, K then V.
__device__ __forceinline__ void bulk_step(uint4* dst, const uint4* k, const uint4* v, unsigned bytes, uint64_t* bar) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_addr(dst)),
               "l"(k), "r"(bytes / 2), "r"(smem_addr(bar)) : "memory");
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_addr(dst + bytes / 32)),
               "l"(v), "r"(bytes / 2), "r"(smem_addr(bar)) : "memory");
}
__device__ __forceinline__ void bar_wait(uint64_t* bar, unsigned parity) {
  unsigned done = 0;
  while (!done) {
    asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                 : "=r"(done) : "r"(smem_addr(bar)), "r"(parity) : "memory");
  }
}

template <int kThreads, int kKeys, int kMinBlocks, bool kBulk = false>
__global__ void __launch_bounds__(kThreads, kMinBlocks)
    stream(const uint4* kv, size_t v_offset, uint4* qo, int tiles_per_head, int tiles, int steps, int work,
           bool exposed, int spill_vecs, bool causal, int order, int* counter, uint4* scratch,
           unsigned long long* tile_start, unsigned* sm_of_cta, float* sink, unsigned long long* trace,
           int trace_slots, unsigned* tile_sm) {
  constexpr int kStepVecs = Shape<kThreads, kKeys>::kStepVecs;
  constexpr int kRowVecs = kQueryRows * kDim * 2 / 16;  // one tile's Q (or O) in 16-byte pieces
  extern __shared__ uint4 buf[];  // two steps, then the tile's Q
  float acc = static_cast<float>(threadIdx.x);
  if (threadIdx.x == 0) sm_of_cta[blockIdx.x] = smid();
  __shared__ int next_tile;
  __shared__ unsigned spill_slot;  // this CTA's slot on its SM (SPILL > 0)
  if (spill_vecs > 0) {
    if (threadIdx.x == 0) {
      unsigned* bits = reinterpret_cast<unsigned*>(counter + 1) + smid();
      unsigned b = 0;
      while (atomicOr(bits, 1u << b) & (1u << b)) b = (b + 1) % kMinBlocks;  // at most kMinBlocks resident
      spill_slot = smid() * kMinBlocks + b;
    }
    __syncthreads();
  }
  __shared__ uint64_t bars[2];  // bulk mode: one mbarrier per step buffer
  unsigned parity[2] = {0, 0};
  if (kBulk) {
    if (threadIdx.x == 0) {
      bar_init(&bars[0]);
      bar_init(&bars[1]);
    }
    __syncthreads();
  }
  // Starts step `i`'s K/V load into buffer `stage`.
  auto issue = [&](int stage, const uint4* ks, size_t v_off) {
    if (kBulk) {
      if (threadIdx.x == 0) bulk_step(buf + stage * kStepVecs, ks, ks + v_off, kStepVecs * 16, &bars[stage]);
    } else {
      load_step<kThreads, kKeys>(buf + stage * kStepVecs, ks, ks + v_off);
    }
  };
  const bool dynamic = order >= 4;
  order &= 3;
  auto fetch = [&](int static_next) {  // the CTA's next tile, the same for all its threads
    if (!dynamic) return static_next;
    __syncthreads();
    if (threadIdx.x == 0) next_tile = atomicAdd(counter, 1);
    __syncthreads();
    return next_tile;
  };
  for (int t = fetch(blockIdx.x); t < tiles; t = fetch(t + gridDim.x)) {
    if (threadIdx.x == 0) tile_start[t] = global_ns();
    if (trace && threadIdx.x == 0) tile_sm[t] = smid();
    // Step s of this head: K at k + s * k_stride, V at v_offset vectors further. Adjacent layout:
    // [K V] per step (stride a whole step, V right after K); split: all K, then all V.
    const size_t k_stride = v_offset == kStepVecs / 2 ? kStepVecs : kStepVecs / 2;
    const uint4* k = kv + static_cast<size_t>(t / tiles_per_head) * steps * k_stride;
    // Causal: tile m (longest first with ORDER >= 1) streams the steps up to its diagonal,
    // first to last or (ORDER 2) last to first.
    const int m = order == 1 || order == 2 ? tiles_per_head - 1 - t % tiles_per_head : t % tiles_per_head;
    const int n = causal ? ((m + 1) * kQueryRows + kKeys - 1) / kKeys : steps;
    auto step_at = [&](int i) { return static_cast<size_t>(causal && order >= 2 ? n - 1 - i : i) * k_stride; };
    if (qo) {  // Q: one pass through L2, awaited before the first step (its rows feed every step)
      const uint4* q = qo + static_cast<size_t>(t) * kRowVecs;
      for (int v = threadIdx.x; v < kRowVecs; v += kThreads) __pipeline_memcpy_async(buf + 2 * kStepVecs + v, q + v, 16);
      __pipeline_commit();
      __pipeline_wait_prior(0);
    }
    if (!exposed) issue(0, k + step_at(0), v_offset);
    for (int s = 0; s < n; ++s) {
      if (exposed) {  // load this step now and wait for it: nothing in flight across steps
        const uint4* ks = k + step_at(s);
        load_step<kThreads, kKeys>(buf + (s & 1) * kStepVecs, ks, ks + v_offset);
        __pipeline_commit();
      } else if (s + 1 < n) {
        issue((s + 1) & 1, k + step_at(s + 1), v_offset);
      } else if (!kBulk) {
        __pipeline_commit();  // an empty group keeps wait_prior(1) meaning "step s has landed"
      }
      if (kBulk) {
        bar_wait(&bars[s & 1], parity[s & 1]);
        parity[s & 1] ^= 1;
      } else {
        __pipeline_wait_prior(1);
      }
      __syncthreads();
      if (trace && threadIdx.x == 0 && s % kTraceEvery == 0) trace[static_cast<size_t>(t) * trace_slots + s / kTraceEvery] = global_ns();
      const uint4 v = buf[(s & 1) * kStepVecs + threadIdx.x];
      const float x = __uint_as_float((v.x ^ v.w) & 0x3f7fffffu);  // finite, depends on the data
      for (int i = 0; i < work; ++i) acc = fmaf(acc, 0.999f, x);
      if (spill_vecs > 0) {  // store this step's share of "registers", reload last step's
        uint4* mine = scratch + (static_cast<size_t>(spill_slot) * 4 * spill_vecs) * kThreads + threadIdx.x;
        for (int j = 0; j < spill_vecs; ++j) {
          const size_t slot = static_cast<size_t>((s % 4) * spill_vecs + j) * kThreads;
          const size_t prev = static_cast<size_t>(((s + 3) % 4) * spill_vecs + j) * kThreads;
          const uint4 old = mine[prev];
          acc += __uint_as_float(old.y & 0x3f7fffffu) * 1e-30f;
          const unsigned a = __float_as_uint(acc);
          mine[slot] = make_uint4(a, a, a, a);
        }
      }
      __syncthreads();  // the buffer is refilled next step
    }
    if (trace && threadIdx.x == 0) trace[static_cast<size_t>(t) * trace_slots + (n + kTraceEvery - 1) / kTraceEvery] = global_ns();
    if (qo) {  // O: written once, over the tile's own Q rows (separate lines per tile, as in attention)
      uint4* o = qo + (static_cast<size_t>(tiles) + t) * kRowVecs;
      const unsigned a = __float_as_uint(acc);
      for (int v = threadIdx.x; v < kRowVecs; v += kThreads) o[v] = make_uint4(a, a, a, a);
    }
  }
  sink[static_cast<size_t>(blockIdx.x) * kThreads + threadIdx.x] = acc;
  if (spill_vecs > 0) {  // free the slot for the next CTA on this SM
    __syncthreads();
    if (threadIdx.x == 0) {
      atomicAnd(reinterpret_cast<unsigned*>(counter + 1) + smid(), ~(1u << (spill_slot % kMinBlocks)));
    }
  }
}

// Runs the kernel twice (warm-up, then timed); returns the timed launch's milliseconds.
template <int kThreads, int kKeys, int kMinBlocks, bool kBulk = false>
float launch(int grid, int smem, const uint4* kv, size_t v_offset, uint4* qo, int tiles_per_head, int tiles, int steps, int work,
             bool exposed, int spill_vecs, bool causal, int order, int* counter, uint4* scratch,
             unsigned long long* starts, unsigned* sm_of_cta, float* sink, unsigned long long* trace, int trace_slots,
             unsigned* tile_sm) {
  auto* k = stream<kThreads, kKeys, kMinBlocks, kBulk>;
  CK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  CK(cudaMemset(counter, 0, (1 + kMaxSms) * sizeof(int)));
  k<<<grid, kThreads, smem>>>(kv, v_offset, qo, tiles_per_head, tiles, steps, work, exposed, spill_vecs, causal, order,
                               counter, scratch, starts, sm_of_cta, sink, trace, trace_slots, tile_sm);
  CK(cudaDeviceSynchronize());
  CK(cudaMemset(counter, 0, (1 + kMaxSms) * sizeof(int)));
  CK(cudaEventRecord(e0));
  k<<<grid, kThreads, smem>>>(kv, v_offset, qo, tiles_per_head, tiles, steps, work, exposed, spill_vecs, causal, order,
                               counter, scratch, starts, sm_of_cta, sink, trace, trace_slots, tile_sm);
  CK(cudaEventRecord(e1));
  CK(cudaDeviceSynchronize());
  float ms = 0;
  CK(cudaEventElapsedTime(&ms, e0, e1));
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 12) {
    fprintf(stderr, "usage: %s p|g|b HEADS SEQ WORK [QO [SPLIT [EXPOSED [SPILL [CAUSAL [ORDER [TRACE]]]]]]]\n", argv[0]);
    return 2;
  }
  const char mode = argv[1][0];
  const int heads = atoi(argv[2]), seq = atoi(argv[3]), work = atoi(argv[4]);
  const bool with_qo = argc >= 6 && atoi(argv[5]) != 0;
  const bool split = argc >= 7 && atoi(argv[6]) != 0;
  const bool exposed = argc >= 8 && atoi(argv[7]) != 0;
  const int spill_bytes = argc >= 9 ? atoi(argv[8]) : 0;
  const int spill_vecs = (spill_bytes + 15) / 16;
  const bool causal = argc >= 10 && atoi(argv[9]) != 0;
  const int order = argc >= 11 ? atoi(argv[10]) : 0;
  const char* trace_path = argc >= 12 ? argv[11] : nullptr;
  if ((mode != 'p' && mode != 'g' && mode != 'b') || heads < 1 || seq < kQueryRows || seq % kQueryRows || work < 0) {
    fprintf(stderr, "mode p, g or b, HEADS >= 1, SEQ a multiple of %d, WORK >= 0\n", kQueryRows);
    return 2;
  }
  int sms = 0;
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  if (sms > kMaxSms) {
    fprintf(stderr, "more than %d SMs\n", kMaxSms);
    return 2;
  }
  const bool persistent = mode != 'g';
  if (mode == 'b' && (exposed || spill_bytes)) {
    fprintf(stderr, "mode b takes EXPOSED 0 and SPILL 0\n");
    return 2;
  }
  const int keys = persistent ? 128 : 64, threads = persistent ? 256 : 128;
  const int steps = seq / keys, tiles_per_head = seq / kQueryRows, tiles = heads * tiles_per_head;
  const int step_bytes = 2 * keys * kDim * 2;
  const int grid = persistent ? sms : tiles;
  const size_t kv_bytes = static_cast<size_t>(heads) * steps * step_bytes;
  uint4* kv;
  unsigned long long* starts;
  unsigned* sm_of_cta;
  float* sink;
  CK(cudaMalloc(&kv, kv_bytes));
  CK(cudaMemset(kv, 0x3c, kv_bytes));
  uint4* qo = nullptr;  // Q of every tile, then O of every tile
  const size_t qo_bytes = 2 * static_cast<size_t>(tiles) * kQueryRows * kDim * 2;
  if (with_qo) {
    CK(cudaMalloc(&qo, qo_bytes));
    CK(cudaMemset(qo, 0x3c, qo_bytes));
  }
  CK(cudaMalloc(&starts, tiles * sizeof(unsigned long long)));
  CK(cudaMalloc(&sm_of_cta, grid * sizeof(unsigned)));
  CK(cudaMalloc(&sink, static_cast<size_t>(grid) * threads * sizeof(float)));
  int* counter;  // the dynamic scheduler's next tile, then each SM's spill-slot bitmap
  CK(cudaMalloc(&counter, (1 + kMaxSms) * sizeof(int)));
  uint4* scratch = nullptr;  // per resident CTA slot (two per SM at most), per thread: four steps' spill slots
  if (spill_vecs > 0) CK(cudaMalloc(&scratch, static_cast<size_t>(kMaxSms) * 2 * 4 * spill_vecs * threads * 16));
  const int trace_slots = steps / kTraceEvery + 2;  // every 16th step of the longest tile, and its end
  unsigned long long* trace = nullptr;
  unsigned* tile_sm = nullptr;
  if (trace_path) {
    CK(cudaMalloc(&trace, static_cast<size_t>(tiles) * trace_slots * sizeof(unsigned long long)));
    CK(cudaMemset(trace, 0, static_cast<size_t>(tiles) * trace_slots * sizeof(unsigned long long)));
    CK(cudaMalloc(&tile_sm, tiles * sizeof(unsigned)));
  }
  const size_t v_offset = split ? kv_bytes / 2 / 16 : static_cast<size_t>(step_bytes) / 2 / 16;  // in uint4
  // Two step buffers and Q; `g` padded to 100 KB so that exactly two CTAs fit an SM, as FA2's do.
  const int q_bytes = kQueryRows * kDim * 2;
  const float ms = mode == 'b' ? launch<256, 128, 1, true>(grid, 2 * step_bytes + q_bytes, kv, v_offset, qo, tiles_per_head, tiles, steps, work, exposed, spill_vecs, causal, order, counter, scratch, starts, sm_of_cta, sink, trace, trace_slots, tile_sm)
                 : mode == 'p' ? launch<256, 128, 1>(grid, 2 * step_bytes + q_bytes, kv, v_offset, qo, tiles_per_head, tiles, steps, work, exposed, spill_vecs, causal, order, counter, scratch, starts, sm_of_cta, sink, trace, trace_slots, tile_sm)
                               : launch<128, 64, 2>(grid, 100 * 1024, kv, v_offset, qo, tiles_per_head, tiles, steps, work, exposed, spill_vecs, causal, order, counter, scratch, starts, sm_of_cta, sink, trace, trace_slots, tile_sm);
  std::vector<unsigned long long> h_starts(tiles);
  std::vector<unsigned> h_sm(grid);
  CK(cudaMemcpy(h_starts.data(), starts, tiles * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(h_sm.data(), sm_of_cta, grid * sizeof(unsigned), cudaMemcpyDeviceToHost));
  unsigned long long t0 = h_starts[0];
  for (unsigned long long t : h_starts) t0 = t < t0 ? t : t0;
  printf("{\"mode\": \"%c\", \"heads\": %d, \"seq\": %d, \"work\": %d, \"qo\": %d, \"ctas\": %d, \"slots\": %d, "
         "\"split\": %d, \"exposed\": %d, \"spill_bytes\": %d, \"causal\": %d, \"order\": %d, \"kernel_ms\": %.4f, \"kv_bytes\": %zu, \"q_bytes\": %zu, \"step_keys\": %d, \"sm_of_cta\": [",
         mode, heads, seq, work, with_qo ? 1 : 0, grid, persistent ? sms : 2 * sms, split ? 1 : 0, exposed ? 1 : 0, spill_vecs * 16, causal ? 1 : 0, order, ms, kv_bytes, with_qo ? qo_bytes / 2 : 0, keys);
  for (int i = 0; i < grid; ++i) printf("%s%u", i ? ", " : "", h_sm[i]);
  printf("], \"tile_start_ns\": [");
  for (int i = 0; i < tiles; ++i) printf("%s%llu", i ? ", " : "", h_starts[i] - t0);
  printf("]}\n");
  if (trace_path) {  // {"every": 16, "t_encoding": "deltas", "tile_sm": [...], "t": [[ns since the first
                     // start, then ns since the previous mark, ...], ...]}
    std::vector<unsigned long long> h_trace(static_cast<size_t>(tiles) * trace_slots);
    std::vector<unsigned> h_tile_sm(tiles);
    CK(cudaMemcpy(h_trace.data(), trace, h_trace.size() * sizeof(unsigned long long), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(h_tile_sm.data(), tile_sm, tiles * sizeof(unsigned), cudaMemcpyDeviceToHost));
    FILE* f = fopen(trace_path, "w");
    if (!f) {
      perror(trace_path);
      return 1;
    }
    fprintf(f, "{\"every\": %d, \"t_encoding\": \"deltas\", \"tile_sm\": [", kTraceEvery);
    for (int i = 0; i < tiles; ++i) fprintf(f, "%s%u", i ? ", " : "", h_tile_sm[i]);
    fprintf(f, "], \"t\": [");
    for (int i = 0; i < tiles; ++i) {
      fprintf(f, "%s[", i ? ", " : "");
      for (int j = 0; j < trace_slots; ++j) {
        const unsigned long long x = h_trace[static_cast<size_t>(i) * trace_slots + j];
        if (x == 0) break;  // past this tile's end
        fprintf(f, "%s%llu", j ? ", " : "", x - (j ? h_trace[static_cast<size_t>(i) * trace_slots + j - 1] : t0));
      }
      fprintf(f, "]");
    }
    fprintf(f, "]}\n");
    fclose(f);
  }
  return 0;
}

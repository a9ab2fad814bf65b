// Continuous-batching serving on one deployment (one model replica), step by step
// (docs/capacity-planning.md, "Serving"). A request is admitted while the running batch
// is under `max_batch` and the KV cache has room (kv_policy), oldest first; a request
// that could never fit, even alone, is rejected at arrival.
//
// Prefill, unchunked (prefill_chunk_tokens 0): prefill goes first (as vLLM's default
// scheduler): a step prefills the oldest admissible waiting prompt whole, plus the
// following ones while their tokens stay within max_prefill_tokens (0: one prompt per
// step; the first prompt is always taken); otherwise one decode step of every running
// sequence. Chunked (prefill_chunk_tokens C > 0): every step decodes all running
// sequences and prefills up to C prompt tokens beside them, admitted prompts in order
// (the end of one and the start of the next may share a step).
//
// KV cache: `reserve` holds prompt + all outputs from admission (no preemption);
// `preempt` admits by current need (the prompt plus the token it makes) and, when the
// next step would overflow the cache, sends the most recently admitted request back to
// the front of the queue, its KV dropped: it is prefilled again later over its prompt and
// the tokens it had made (recompute, as vLLM does).
#pragma once

#include <cstdint>
#include <vector>

#include "models/serving/arrivals.h"
#include "models/serving/step_table.h"

namespace attnsim {

enum class KvPolicy { reserve, preempt };

struct ServingOptions {
  int64_t max_batch = 256;             // running sequences (decoding or being prefilled)
  int64_t kv_capacity_tokens = 0;      // from the memory plan
  int64_t prefill_chunk_tokens = 0;    // 0: whole prompts, prefill first
  int64_t max_prefill_tokens = 0;      // unchunked: prompt tokens one step may batch (0: one prompt)
  KvPolicy kv_policy = KvPolicy::reserve;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

// One request's fate, in input order. Times are -1 where they do not apply.
struct RequestOutcome {
  int64_t id = 0;
  int pattern = 0;           // class it was served with
  bool completed = false;    // false: rejected (never fits)
  double ttft_s = -1, tpot_s = -1, e2e_s = -1, queue_s = -1;
  int64_t preemptions = 0;
};

struct ServingResult {
  int64_t requests = 0, completed = 0, rejected = 0;
  double makespan_s = 0;                 // first arrival (0) to last completion
  double busy_s = 0;                     // time the chips spent in steps
  double prefill_s = 0, decode_s = 0;    // of busy_s (a mixed step split by its parts)
  double attention_s = 0;                // of busy_s
  int64_t prefill_steps = 0, decode_steps = 0;  // steps with prefill / decode work (a mixed step counts in both)
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t preemptions = 0, recomputed_tokens = 0;  // recomputed: prompt + made tokens prefilled again
  double output_tokens_per_s = 0, requests_per_s = 0;
  Percentiles ttft_s, tpot_s, e2e_s, queue_s;  // queue: arrival to the start of its first prefill
  double mean_in_system = 0;     // time average of requests in the system (arrived, not finished)
  double mean_running_batch = 0; // decode batch, averaged over steps that decode
  // Per completed request, in input order (tests): arrival to completion.
  std::vector<double> latency_s;
  std::vector<RequestOutcome> outcomes;
};

ServingResult simulate_serving(const std::vector<Request>& requests, StepTable& steps, const ServingOptions& o);

Percentiles percentiles(std::vector<double> v);  // nearest-rank

}  // namespace attnsim

// Continuous-batching serving on one deployment (one model replica), event by event
// (docs/capacity-planning.md, "Serving"). Each step is either the prefill of the oldest
// waiting request that fits, which makes its first token, or one decode step of every
// running request. Prefill goes first (as vLLM's default scheduler). A request is admitted
// when the KV cache can hold its prompt plus all its output tokens (no preemption), and the
// running batch stays under `max_batch`; a request that can never fit is rejected.
#pragma once

#include <cstdint>
#include <vector>

#include "models/serving/arrivals.h"
#include "models/serving/step_table.h"

namespace attnsim {

struct ServingOptions {
  int64_t max_batch = 256;          // running sequences
  int64_t kv_capacity_tokens = 0;   // from the memory plan
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

struct ServingResult {
  int64_t requests = 0, completed = 0, rejected = 0;
  double makespan_s = 0;                 // first arrival (0) to last completion
  double busy_s = 0;                     // time the chips spent in steps
  double prefill_s = 0, decode_s = 0;    // of busy_s
  double attention_s = 0;                // of busy_s
  int64_t prefill_steps = 0, decode_steps = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  double output_tokens_per_s = 0, requests_per_s = 0;
  Percentiles ttft_s, tpot_s, e2e_s, queue_s;  // queue: arrival to prefill start
  double mean_in_system = 0;     // time average of requests in the system (arrived, not finished)
  double mean_running_batch = 0; // decode batch, averaged over decode steps
  // Per completed request, in id order (tests): arrival to completion.
  std::vector<double> latency_s;
};

ServingResult simulate_serving(const std::vector<Request>& requests, StepTable& steps, const ServingOptions& o);

Percentiles percentiles(std::vector<double> v);  // nearest-rank

}  // namespace attnsim

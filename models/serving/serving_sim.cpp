#include "models/serving/serving_sim.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "sim/core/error.h"

namespace attnsim {

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) { return v[static_cast<size_t>(std::max(0.0, std::ceil(q * static_cast<double>(v.size())) - 1))]; };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  return p;
}

namespace {

struct Running {
  int64_t id = 0;
  int64_t context = 0;    // tokens in its KV cache after the next decode step
  int64_t remaining = 0;  // output tokens still to make
  double first_token_s = 0;
};

}  // namespace

ServingResult simulate_serving(const std::vector<Request>& reqs, StepTable& steps, const ServingOptions& o) {
  if (o.max_batch < 1) throw Error("serving: max_batch must be >= 1");
  ServingResult r;
  r.requests = static_cast<int64_t>(reqs.size());
  std::vector<double> ttft, tpot, e2e, queue;
  std::vector<double> done_at(reqs.size(), -1);
  std::deque<size_t> waiting;
  std::vector<Running> running;
  int64_t kv_reserved = 0;
  size_t next = 0;
  double t = 0, in_system_integral = 0, batch_sum = 0;
  int64_t in_system = 0;
  // Advances the clock to `to`, integrating the number of requests in the system.
  auto advance = [&](double to) {
    in_system_integral += static_cast<double>(in_system) * (to - t);
    t = to;
  };
  auto arrive_until = [&](double to) {
    while (next < reqs.size() && reqs[next].arrival_s <= to) {
      advance(std::max(t, reqs[next].arrival_s));
      const Request& q = reqs[next];
      if (q.prompt_tokens + q.output_tokens > o.kv_capacity_tokens) {
        ++r.rejected;  // could never fit, even alone
      } else {
        waiting.push_back(next);
        ++in_system;
      }
      ++next;
    }
    advance(std::max(t, to));
  };
  auto finish = [&](int64_t id, double first_token_s, int64_t outputs) {
    const Request& q = reqs[static_cast<size_t>(id)];
    done_at[static_cast<size_t>(id)] = t;
    e2e.push_back(t - q.arrival_s);
    if (outputs > 1) tpot.push_back((t - first_token_s) / static_cast<double>(outputs - 1));
    kv_reserved -= q.prompt_tokens + q.output_tokens;
    --in_system;
    ++r.completed;
    r.output_tokens += outputs;
  };
  while (next < reqs.size() || !waiting.empty() || !running.empty()) {
    arrive_until(t);
    const bool can_prefill = !waiting.empty() && static_cast<int64_t>(running.size()) < o.max_batch &&
                             kv_reserved + reqs[waiting.front()].prompt_tokens + reqs[waiting.front()].output_tokens <= o.kv_capacity_tokens;
    if (can_prefill) {
      const Request& q = reqs[waiting.front()];
      waiting.pop_front();
      kv_reserved += q.prompt_tokens + q.output_tokens;
      queue.push_back(t - q.arrival_s);
      const double dt = steps.prefill_s(q.prompt_tokens);
      r.attention_s += steps.prefill_attention_s(q.prompt_tokens);
      r.prefill_s += dt;
      ++r.prefill_steps;
      r.input_tokens += q.prompt_tokens;
      arrive_until(t + dt);
      ttft.push_back(t - q.arrival_s);
      if (q.output_tokens == 1) {
        finish(q.id, t, 1);
      } else {
        running.push_back({q.id, q.prompt_tokens + 1, q.output_tokens - 1, t});
      }
    } else if (!running.empty()) {
      int64_t ctx_sum = 0;
      for (const Running& x : running) ctx_sum += x.context;
      const int64_t b = static_cast<int64_t>(running.size());
      const int64_t ctx = (ctx_sum + b - 1) / b;  // mean keys per sequence (decode attention is ~linear in it)
      const double dt = steps.decode_s(b, ctx);
      r.attention_s += steps.decode_attention_s(b, ctx);
      r.decode_s += dt;
      ++r.decode_steps;
      batch_sum += static_cast<double>(b);
      arrive_until(t + dt);
      std::vector<Running> still;
      still.reserve(running.size());
      for (Running& x : running) {
        ++x.context;
        if (--x.remaining == 0) {
          finish(x.id, x.first_token_s, reqs[static_cast<size_t>(x.id)].output_tokens);
        } else {
          still.push_back(x);
        }
      }
      running.swap(still);
    } else if (next < reqs.size()) {
      arrive_until(reqs[next].arrival_s);  // idle until the next arrival
    } else {
      throw Error("serving: a waiting request can never be admitted (internal)");
    }
  }
  r.makespan_s = t;
  r.busy_s = r.prefill_s + r.decode_s;
  r.ttft_s = percentiles(ttft);
  r.tpot_s = percentiles(tpot);
  r.e2e_s = percentiles(e2e);
  r.queue_s = percentiles(queue);
  r.mean_in_system = t > 0 ? in_system_integral / t : 0;
  r.mean_running_batch = r.decode_steps ? batch_sum / static_cast<double>(r.decode_steps) : 0;
  r.output_tokens_per_s = t > 0 ? static_cast<double>(r.output_tokens) / t : 0;
  r.requests_per_s = t > 0 ? static_cast<double>(r.completed) / t : 0;
  for (double d : done_at) {
    if (d >= 0) r.latency_s.push_back(d);
  }
  for (size_t i = 0, k = 0; i < done_at.size(); ++i) {
    if (done_at[i] >= 0) r.latency_s[k++] = done_at[i] - reqs[i].arrival_s;
  }
  return r;
}

}  // namespace attnsim

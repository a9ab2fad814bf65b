// Serving scheduler options (issue 7): chunked prefill, several prompts per prefill step and
// preemption with recompute, each against step times computed by hand from a fresh step
// model; Little's law with every option on.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/llm/step_model.h"
#include "models/serving/serving_sim.h"
#include "tests/serving_helpers.h"

using namespace attnsim;
using attnsim_test::h100;
using attnsim_test::tiny_model;

namespace {

// A step of `q` new prompt tokens over `kv` keys, nothing decoding: the model's step
// without attention plus the chunk's attention.
double chunk_step_s(StepModel& m, int64_t q, int64_t kv, bool last) {
  return m.without_attention(DenseWork{q, last ? 1 : 0, q, 0}).time_s + m.attention_s(false, 1, q, kv);
}

}  // namespace

TEST_CASE("serving: a chunked prefill takes exactly its chunk steps", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  ServingOptions o{8, 100000};
  o.prefill_chunk_tokens = 256;
  const ServingResult r = simulate_serving({{0, 0.0, 1000, 3}}, table, o);
  // Chunks of 256, 256, 256 and 232 tokens over 256, 512, 768 and 1000 keys; the last
  // makes the first token, then two decode steps at 1001 and 1002 keys.
  StepModel m(h100(), tiny_model(), Deployment{});
  const double prefill = chunk_step_s(m, 256, 256, false) + chunk_step_s(m, 256, 512, false) + chunk_step_s(m, 256, 768, false) +
                         chunk_step_s(m, 232, 1000, true);
  const double decode = m.decode(1, 1001).time_s + m.decode(1, 1002).time_s;
  REQUIRE(r.completed == 1);
  CHECK(r.ttft_s.p50 == Approx(prefill).epsilon(1e-12));
  CHECK(r.latency_s[0] == Approx(prefill + decode).epsilon(1e-12));
  CHECK(r.prefill_steps == 4);
  CHECK(r.decode_steps == 2);
  CHECK(r.input_tokens == 1000);
  // The chunk's attention is the kernel's, with the queries after the earlier keys: a later
  // chunk of the same size costs more than the first.
  CHECK(m.attention_s(false, 1, 256, 768) > m.attention_s(false, 1, 256, 256));
  // A prompt within one chunk is costed as the unchunked prefill.
  const ServingResult whole = simulate_serving({{0, 0.0, 200, 1}}, table, o);
  CHECK(whole.latency_s[0] == Approx(m.prefill(1, 200).time_s).epsilon(1e-12));
}

TEST_CASE("serving: a chunk step carries the running batch's decode", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  ServingOptions o{8, 100000};
  o.prefill_chunk_tokens = 512;
  // Request 0 (300 tokens) is prefilled and decoding when request 1 (600 tokens) arrives.
  StepModel m(h100(), tiny_model(), Deployment{});
  const double first = m.prefill(1, 300).time_s;
  const std::vector<Request> reqs = {{0, 0.0, 300, 50}, {1, first * 0.5, 600, 2}};
  const ServingResult r = simulate_serving(reqs, table, o);
  REQUIRE(r.completed == 2);
  // Step 2: request 0 decodes at 301 keys beside a 512-token chunk of request 1 (the whole
  // batch's rows through the non-attention part once; each part's attention on its own).
  const double step2 = m.without_attention(DenseWork{1 + 512, 1, 512, 0}).time_s + m.attention_s(true, 1, 1, 301) +
                       m.attention_s(false, 1, 512, 512);
  const double step3 = m.without_attention(DenseWork{1 + 88, 2, 88, 0}).time_s + m.attention_s(true, 1, 1, 302) +
                       m.attention_s(false, 1, 88, 600);
  CHECK(r.outcomes[1].ttft_s == Approx(first + step2 + step3 - reqs[1].arrival_s).epsilon(1e-12));
  CHECK(r.outcomes[1].queue_s == Approx(first - reqs[1].arrival_s).epsilon(1e-12));
}

TEST_CASE("serving: several prompts in one prefill step cost the batched prefill", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  StepModel m(h100(), tiny_model(), Deployment{});
  const std::vector<Request> two = {{0, 0.0, 512, 1}, {1, 0.0, 512, 1}};
  ServingOptions o{8, 100000};
  o.max_prefill_tokens = 1024;
  const ServingResult batched = simulate_serving(two, table, o);
  REQUIRE(batched.completed == 2);
  CHECK(batched.prefill_steps == 1);
  CHECK(batched.ttft_s.p99 == Approx(m.prefill(2, 512).time_s).epsilon(1e-12));
  CHECK(batched.ttft_s.p50 == batched.ttft_s.p99);
  // A budget below both prompts: one prompt per step, the second waits for the first.
  o.max_prefill_tokens = 1023;
  const ServingResult serial = simulate_serving(two, table, o);
  CHECK(serial.prefill_steps == 2);
  CHECK(serial.ttft_s.p99 == Approx(2 * m.prefill(1, 512).time_s).epsilon(1e-12));
  // Unequal prompts: each its share of a batch-2 kernel at its own length.
  o.max_prefill_tokens = 4096;
  const ServingResult mixed = simulate_serving({{0, 0.0, 256, 1}, {1, 0.0, 768, 1}}, table, o);
  const double expected = m.without_attention(DenseWork{1024, 2, 1024, 0}).time_s +
                          (m.attention_s(false, 2, 256, 256) + m.attention_s(false, 2, 768, 768)) / 2;
  CHECK(mixed.ttft_s.p99 == Approx(expected).epsilon(1e-12));
}

TEST_CASE("serving: preemption recomputes the newest request and completes everything", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  // Two requests of 100 + 20 tokens in a cache of 230: both are admitted by current need
  // (101 each); after 15 decode steps both need 116 keys (232 > 230), so the newer one is
  // preempted with 16 tokens made and 115 in the cache, waits for the older to finish,
  // and is prefilled again over 116 tokens (making token 17).
  ServingOptions o{8, 230};
  o.kv_policy = KvPolicy::preempt;
  const std::vector<Request> reqs = {{0, 0.0, 100, 20}, {1, 0.0, 100, 20}};
  const ServingResult r = simulate_serving(reqs, table, o);
  StepModel m(h100(), tiny_model(), Deployment{});
  double t0 = 2 * m.prefill(1, 100).time_s;
  for (int64_t k = 0; k < 15; ++k) t0 += m.decode(2, 101 + k).time_s;
  for (int64_t c = 116; c < 120; ++c) t0 += m.decode(1, c).time_s;
  double t1 = t0 + m.prefill(1, 116).time_s;
  for (int64_t c = 117; c < 120; ++c) t1 += m.decode(1, c).time_s;
  REQUIRE(r.completed == 2);
  CHECK(r.preemptions == 1);
  CHECK(r.outcomes[1].preemptions == 1);
  CHECK(r.recomputed_tokens == 115);
  CHECK(r.output_tokens == 40);
  CHECK(r.latency_s[0] == Approx(t0).epsilon(1e-12));
  CHECK(r.latency_s[1] == Approx(t1).epsilon(1e-12));
  CHECK(r.outcomes[1].ttft_s == Approx(2 * m.prefill(1, 100).time_s).epsilon(1e-12));
  // Reserving prompt + outputs (240 > 230) serialises them instead, with no preemption.
  o.kv_policy = KvPolicy::reserve;
  const ServingResult reserved = simulate_serving(reqs, table, o);
  CHECK(reserved.preemptions == 0);
  CHECK(reserved.mean_running_batch == 1.0);
}

TEST_CASE("serving: Little's law holds with chunked prefill and preemption under a tight cache", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, false);
  const double duration = 30;
  const std::vector<Request> reqs = attnsim_test::uniform_requests(100, duration, 512, 11);
  const double arrivals_per_s = static_cast<double>(reqs.size()) / duration;  // this sample's rate
  for (const bool chunked : {false, true}) {
    ServingOptions o{64, 4096};
    o.kv_policy = KvPolicy::preempt;
    if (chunked) {
      o.prefill_chunk_tokens = 512;
    } else {
      o.max_prefill_tokens = 2048;
    }
    const ServingResult r = simulate_serving(reqs, table, o);
    INFO("chunked " << chunked << " L " << r.mean_in_system << " lambda W " << arrivals_per_s * r.e2e_s.mean << " busy "
                    << r.busy_s / r.makespan_s << " preemptions " << r.preemptions);
    REQUIRE(r.completed == static_cast<int64_t>(reqs.size()));
    CHECK(r.preemptions > 0);
    CHECK(r.busy_s / r.makespan_s > 0.2);
    CHECK(r.mean_in_system == Approx(arrivals_per_s * r.e2e_s.mean).epsilon(0.03));
  }
}

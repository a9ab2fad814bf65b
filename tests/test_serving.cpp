// Serving simulation (issue 7): hand-computable cases built from the step model itself,
// the KV-cache admission limit, Little's law on a long Poisson run, and the speed target
// (one simulated hour at 10 req/s in under 30 s).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "models/llm/step_model.h"
#include "models/serving/serving_sim.h"
#include "tests/serving_helpers.h"

using namespace attnsim;
using attnsim_test::h100;
using attnsim_test::tiny_model;

TEST_CASE("serving: one request takes exactly its prefill plus its decode steps", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  const std::vector<Request> one = {{0, 0.25, 512, 5}};
  const ServingResult r = simulate_serving(one, table, ServingOptions{8, 100000});
  // The prefill makes token 1; four decode steps see 513, 514, 515 and 516 keys.
  StepModel fresh(h100(), tiny_model(), Deployment{});
  const double prefill = fresh.prefill(1, 512).time_s;
  double decode = 0;
  for (int64_t ctx = 513; ctx <= 516; ++ctx) decode += fresh.decode(1, ctx).time_s;
  REQUIRE(r.completed == 1);
  CHECK(r.latency_s[0] == Approx(prefill + decode).epsilon(1e-12));
  CHECK(r.ttft_s.p99 == Approx(prefill).epsilon(1e-12));
  CHECK(r.tpot_s.p50 == Approx(decode / 4).epsilon(1e-12));
  CHECK(r.queue_s.p99 == 0);
  CHECK(r.makespan_s == Approx(0.25 + prefill + decode).epsilon(1e-12));
  CHECK(r.output_tokens == 5);
  CHECK(r.decode_steps == 4);
}

TEST_CASE("serving: the KV-cache budget bounds the running batch and rejects what never fits", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, true);
  // Room for exactly two requests of 512 + 8 tokens; three arrive together, one too big for any room.
  std::vector<Request> reqs = {{0, 0, 512, 8}, {1, 0, 512, 8}, {2, 0, 512, 8}, {3, 0, 1000, 41}};
  const ServingResult r = simulate_serving(reqs, table, ServingOptions{8, 2 * 520});
  CHECK(r.rejected == 1);  // 1041 tokens > 1040
  CHECK(r.completed == 3);
  CHECK(r.mean_running_batch <= 2.0);
  // The third waits for a whole request to finish: its queueing delay is at least one request's latency.
  REQUIRE(r.latency_s.size() == 3);
  CHECK(r.queue_s.p99 >= r.latency_s[0] - 1e-12);
  // The batch limit bounds it too: max_batch 1 serialises all three.
  const ServingResult serial = simulate_serving({reqs.begin(), reqs.begin() + 3}, table, ServingOptions{1, 100000});
  CHECK(serial.mean_running_batch == 1.0);
}

TEST_CASE("serving: Poisson arrivals have the configured rate and Little's law holds", "[serving]") {
  StepModel sm(h100(), tiny_model(), Deployment{});
  StepTable table(sm, false);
  const double rate = 200, duration = 600;
  const std::vector<Request> reqs = attnsim_test::uniform_requests(rate, duration, 64, 7);
  // Count: mean rate x duration = 120000, standard deviation sqrt(120000) = 346: within 4 sigma.
  CHECK(std::abs(static_cast<double>(reqs.size()) - rate * duration) < 4 * std::sqrt(rate * duration));
  const ServingResult r = simulate_serving(reqs, table, ServingOptions{64, 1 << 20});
  REQUIRE(r.completed == static_cast<int64_t>(reqs.size()));
  // L = lambda W: time-averaged requests in the system against the arrival rate x mean time in it.
  const double little = rate * r.e2e_s.mean;
  INFO("L " << r.mean_in_system << " lambda W " << little << " busy " << r.busy_s / r.makespan_s);
  CHECK(r.busy_s / r.makespan_s > 0.2);  // a loaded system, not an empty one
  CHECK(r.mean_in_system == Approx(little).epsilon(0.03));
  // Same seed, same run.
  CHECK(attnsim_test::uniform_requests(rate, 1, 64, 7)[3].arrival_s == reqs[3].arrival_s);
}

TEST_CASE("serving: an hour of Llama-3-8B traffic at 10 req/s simulates in under 30 s", "[serving][speed]") {
  StepModel sm(h100(), load_model_spec(resolve_model_path("llama3-8b")), Deployment{});
  StepTable table(sm, false);
  LengthDistribution prompt{"lognormal", 1024, 1.0, 16384}, output{"lognormal", 256, 0.8, 4096};
  const std::vector<Request> reqs = poisson_requests(10, 3600, prompt, output, 1);
  const auto t0 = std::chrono::steady_clock::now();
  const ServingResult r = simulate_serving(reqs, table, ServingOptions{256, sm.memory().kv_capacity_tokens});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("wall " << wall << " s, step shapes " << table.evaluations() << ", p99 TTFT " << r.ttft_s.p99);
  CHECK(r.completed + r.rejected == static_cast<int64_t>(reqs.size()));
  CHECK(r.makespan_s >= 3600 * 0.99);
  CHECK(wall < 30);
}

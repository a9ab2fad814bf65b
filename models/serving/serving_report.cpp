#include "models/serving/serving_report.h"

namespace attnsim {

namespace {
nlohmann::ordered_json pct_json(const Percentiles& p, double scale) {
  return {{"p50", p.p50 * scale}, {"p90", p.p90 * scale}, {"p99", p.p99 * scale}, {"mean", p.mean * scale}};
}
}  // namespace

nlohmann::ordered_json serving_json(const ServingResult& r, const StepModel& model, const CostConfig* cost) {
  nlohmann::ordered_json j = {
      {"requests", r.requests}, {"completed", r.completed}, {"rejected", r.rejected},
      {"makespan_s", r.makespan_s}, {"busy_s", r.busy_s}, {"prefill_s", r.prefill_s}, {"decode_s", r.decode_s},
      {"attention_share", r.busy_s > 0 ? r.attention_s / r.busy_s : 0},
      {"prefill_steps", r.prefill_steps}, {"decode_steps", r.decode_steps},
      {"input_tokens", r.input_tokens}, {"output_tokens", r.output_tokens},
      {"output_tokens_per_s", r.output_tokens_per_s}, {"requests_per_s", r.requests_per_s},
      {"ttft_ms", pct_json(r.ttft_s, 1e3)}, {"tpot_ms", pct_json(r.tpot_s, 1e3)},
      {"e2e_s", pct_json(r.e2e_s, 1.0)}, {"queue_ms", pct_json(r.queue_s, 1e3)},
      {"mean_in_system", r.mean_in_system}, {"mean_decode_batch", r.mean_running_batch}};
  if (cost && r.busy_s > 0 && r.input_tokens > 0 && r.output_tokens > 0) {
    const ChipPrice p = cost->price(model.hw());
    const double chips = model.deployment().chips();
    const double bill = chips * p.usd_per_chip_hour / 3600.0 * r.makespan_s;
    const double in_share = r.prefill_s / r.busy_s;
    const double energy_j = chips * p.power_w * r.busy_s;  // busy chips at board power
    j["cost"] = {{"config", cost->name},
                 {"usd_per_chip_hour", p.usd_per_chip_hour},
                 {"usd_total", bill},
                 {"usd_per_million_input_tokens", bill * in_share / static_cast<double>(r.input_tokens) * 1e6},
                 {"usd_per_million_output_tokens", bill * (1 - in_share) / static_cast<double>(r.output_tokens) * 1e6},
                 {"joules_per_input_token", energy_j * in_share / static_cast<double>(r.input_tokens)},
                 {"joules_per_output_token", energy_j * (1 - in_share) / static_cast<double>(r.output_tokens)},
                 {"utilization", r.busy_s / r.makespan_s}};
  }
  return j;
}

}  // namespace attnsim

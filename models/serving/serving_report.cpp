#include "models/serving/serving_report.h"

#include "sim/core/error.h"

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
  if (r.preemptions > 0 || r.recomputed_tokens > 0) {
    j["preemptions"] = r.preemptions;
    j["recomputed_tokens"] = r.recomputed_tokens;
  }
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

nlohmann::ordered_json pattern_table_json(const std::vector<PatternClass>& classes, const std::vector<Request>& requests,
                                          const ServingResult& r, const AdmissionResult* admission) {
  const size_t n = classes.size();
  std::vector<int64_t> asked(n, 0), admitted(n, 0), rejected(n, 0), downgraded(n, 0), completed(n, 0), served(n, 0);
  std::vector<std::vector<double>> ttft(n), tpot(n), e2e(n), measure(n);
  std::vector<const RequestOutcome*> outcome(requests.size(), nullptr);
  for (const RequestOutcome& o : r.outcomes) {
    if (o.id < 0 || static_cast<size_t>(o.id) >= requests.size()) throw Error("serving report: request ids must be their input indices (internal)");
    outcome[static_cast<size_t>(o.id)] = &o;
    ++served[static_cast<size_t>(o.pattern)];
  }
  double share_sum = 0;
  for (const PatternClass& c : classes) share_sum += c.share;
  for (size_t i = 0; i < requests.size(); ++i) {
    const size_t c = static_cast<size_t>(std::max(0, requests[i].pattern));
    ++asked[c];
    const Admission d = admission ? admission->decision[i] : Admission::admitted;
    if (admission) measure[c].push_back(admission->irregularity[i]);
    (d == Admission::admitted ? admitted : d == Admission::rejected ? rejected : downgraded)[c] += 1;
    const RequestOutcome* o = outcome[i];
    if (!o || !o->completed) continue;
    ++completed[c];
    ttft[c].push_back(o->ttft_s);
    if (o->tpot_s >= 0) tpot[c].push_back(o->tpot_s);
    e2e[c].push_back(o->e2e_s);
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t c = 0; c < n; ++c) {
    nlohmann::ordered_json j = {{"name", classes[c].name}, {"pattern", classes[c].describe()},
                                {"share", share_sum > 0 ? classes[c].share / share_sum : 0.0},
                                {"requests", asked[c]}, {"admitted", admitted[c]}, {"rejected_by_rule", rejected[c]},
                                {"downgraded", downgraded[c]}, {"served", served[c]}, {"completed", completed[c]}};
    if (admission) {
      const Percentiles m = percentiles(measure[c]);
      j["irregularity_keys"] = {{"p50", m.p50}, {"p99", m.p99}};
    }
    j["ttft_ms"] = pct_json(percentiles(ttft[c]), 1e3);
    j["tpot_ms"] = pct_json(percentiles(tpot[c]), 1e3);
    j["e2e_s"] = pct_json(percentiles(e2e[c]), 1.0);
    out.push_back(j);
  }
  return out;
}

}  // namespace attnsim

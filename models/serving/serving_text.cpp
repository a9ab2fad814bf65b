#include "models/serving/serving_text.h"

#include <cstdarg>
#include <cstdio>

namespace attnsim {

namespace {

using Json = nlohmann::ordered_json;

void add(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void add(std::string& out, const char* fmt, ...) {
  char line[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(line, sizeof line, fmt, args);
  va_end(args);
  out += line;
}

double num(const Json& j, const char* key) { return j.at(key).get<double>(); }
long long count(const Json& j, const char* key) { return j.at(key).get<long long>(); }

void percentile_rows(std::string& out, const Json& s) {
  add(out, "%-12s %10s %10s %10s %10s\n", "", "p50", "p90", "p99", "mean");
  for (const auto& [key, label] : {std::pair{"ttft_ms", "TTFT ms"}, {"tpot_ms", "TPOT ms"}, {"e2e_s", "e2e s"}, {"queue_ms", "queue ms"}}) {
    const Json& p = s.at(key);
    add(out, "%-12s %10.2f %10.2f %10.2f %10.2f\n", label, num(p, "p50"), num(p, "p90"), num(p, "p99"), num(p, "mean"));
  }
}

// "a/b" of two numbers at `digits` decimals.
std::string pair(double a, double b, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f/%.*f", digits, a, digits, b);
  return text;
}

void pattern_rows(std::string& out, const Json& patterns, bool rule) {
  add(out, "%-14s %6s %8s %8s %8s %10s %7s", "pattern", "share", "requests", "admitted", "rejected", "downgraded", "served");
  if (rule) add(out, " %15s", "irreg p50/p99");
  add(out, " %17s %17s\n", "TTFT p50/p99 ms", "TPOT p50/p99 ms");
  for (const Json& p : patterns) {
    add(out, "%-14s %6.3f %8lld %8lld %8lld %10lld %7lld", p.at("name").get<std::string>().substr(0, 14).c_str(), num(p, "share"),
        count(p, "requests"), count(p, "admitted"), count(p, "rejected_by_rule"), count(p, "downgraded"), count(p, "served"));
    if (rule) add(out, " %15s", pair(num(p.at("irregularity_keys"), "p50"), num(p.at("irregularity_keys"), "p99"), 0).c_str());
    add(out, " %17s %17s\n", pair(num(p.at("ttft_ms"), "p50"), num(p.at("ttft_ms"), "p99"), 1).c_str(),
        pair(num(p.at("tpot_ms"), "p50"), num(p.at("tpot_ms"), "p99"), 2).c_str());
  }
  for (const Json& p : patterns) add(out, "  %s: %s\n", p.at("name").get<std::string>().c_str(), p.at("pattern").get<std::string>().c_str());
}

void rule_effect(std::string& out, const Json& a, const Json& with, const Json& patterns) {
  const Json& r = a.at("rule");
  const bool scattered = r.at("measure").get<std::string>() == "scattered_keys";
  add(out, "\nadmission rule: %g%% of a prompt's query rows attend to at most %lld %s", num(r, "quantile") * 100, count(r, "max_keys"),
      scattered ? "keys outside whole aligned blocks of " : "keys");
  if (scattered) add(out, "%lld", count(r, "block_tokens"));
  add(out, "; otherwise %s%s\n", r.at("mode").get<std::string>().c_str(),
      r.contains("fallback") ? (" to '" + r.at("fallback").get<std::string>() + "'").c_str() : "");
  add(out, "admitted %lld, rejected %lld, downgraded %lld\n", count(a, "admitted"), count(a, "rejected"), count(a, "downgraded"));
  const Json& wo = a.at("without_rule");
  add(out, "%-22s %14s %14s\n", "effect of the rule", "without", "with");
  add(out, "%-22s %14lld %14lld\n", "completed", count(wo, "completed"), count(with, "completed"));
  add(out, "%-22s %14.1f %14.1f\n", "output tokens/s", num(wo, "output_tokens_per_s"), num(with, "output_tokens_per_s"));
  for (const auto& [key, label] : {std::pair{"ttft_ms", "TTFT ms"}, {"tpot_ms", "TPOT ms"}, {"e2e_s", "e2e s"}}) {
    for (const char* p : {"p50", "p90", "p99"}) {
      add(out, "%-8s %-13s %14.2f %14.2f\n", label, p, num(wo.at(key), p), num(with.at(key), p));
    }
  }
  // Per pattern (as requested; downgraded requests under theirs), p99 without / with.
  const Json& by_wo = a.at("patterns_without_rule");
  for (const auto& [key, label] : {std::pair{"ttft_ms", "TTFT ms p99"}, {"tpot_ms", "TPOT ms p99"}}) {
    for (size_t i = 0; i < by_wo.size(); ++i) {
      const Json& w = by_wo[i];
      if (count(w, "requests") == 0) continue;
      add(out, "%-11s %-10s %14.2f %14.2f\n", label, w.at("name").get<std::string>().substr(0, 10).c_str(), num(w.at(key), "p99"),
          num(patterns.at(i).at(key), "p99"));
    }
  }
}

}  // namespace

std::string serving_text(const Json& j) {
  std::string out;
  add(out, "%s on %s, tp %d, cp %d: KV cache %lld tokens, max batch %lld\n", j.at("model").get<std::string>().c_str(),
      j.at("hardware").get<std::string>().c_str(), j.at("tp").get<int>(), j.at("cp").get<int>(), count(j, "kv_capacity_tokens"),
      count(j, "max_batch"));
  const Json sched = j.contains("scheduler") ? j.at("scheduler") : Json{{"kv_policy", "reserve"}, {"prefill_chunk_tokens", 0}, {"max_prefill_tokens", 0}};
  const long long chunk = count(sched, "prefill_chunk_tokens"), batch_tokens = count(sched, "max_prefill_tokens");
  add(out, "scheduler: KV %s; ", sched.at("kv_policy").get<std::string>().c_str());
  if (chunk > 0) {
    add(out, "chunked prefill, up to %lld prompt tokens per step beside the decodes\n", chunk);
  } else if (batch_tokens > 0) {
    add(out, "prefill first, prompts batched up to %lld tokens per prefill step\n", batch_tokens);
  } else {
    add(out, "prefill first, one prompt per prefill step\n");
  }
  const Json& s = j.at("serving");
  add(out, "%lld requests: %lld completed, %lld rejected (never fit in the KV cache)\n", count(s, "requests"), count(s, "completed"),
      count(s, "rejected"));
  add(out, "makespan %.1f s, busy %.1f s (prefill %.1f, decode %.1f), attention share %.3f\n", num(s, "makespan_s"), num(s, "busy_s"),
      num(s, "prefill_s"), num(s, "decode_s"), num(s, "attention_share"));
  add(out, "%.1f output tokens/s, %.2f requests/s; mean decode batch %.1f, mean in system %.1f\n", num(s, "output_tokens_per_s"),
      num(s, "requests_per_s"), num(s, "mean_decode_batch"), num(s, "mean_in_system"));
  if (s.contains("preemptions")) {
    add(out, "preemptions %lld, recomputed %lld tokens\n", count(s, "preemptions"), count(s, "recomputed_tokens"));
  }
  percentile_rows(out, s);
  if (s.contains("cost")) {
    const Json& c = s.at("cost");
    add(out, "cost (%s): $%.3f per 1M input, $%.3f per 1M output tokens, utilization %.3f\n", c.at("config").get<std::string>().c_str(),
        num(c, "usd_per_million_input_tokens"), num(c, "usd_per_million_output_tokens"), num(c, "utilization"));
  }
  if (j.contains("patterns")) {
    add(out, "\n");
    pattern_rows(out, j.at("patterns"), j.contains("admission"));
  }
  if (j.contains("admission")) rule_effect(out, j.at("admission"), s, j.at("patterns"));
  add(out, "%lld step shapes evaluated\n", count(j, "step_shapes_evaluated"));
  return out;
}

}  // namespace attnsim

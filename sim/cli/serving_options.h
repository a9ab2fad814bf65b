// Options shared by `attnsim serve` and `plan`: the scheduler (chunked and multi-prompt
// prefill, KV policy), per-request patterns and the admission rule.
#pragma once

#include <CLI/CLI.hpp>
#include <sstream>
#include <string>

#include "models/serving/serving_setup.h"
#include "sim/core/error.h"

namespace attnsim {

struct ServingCliOptions {
  std::string kv_policy = "reserve";
  int64_t prefill_chunk_tokens = 0, max_prefill_tokens = 0;
  std::string pattern_mix;
  IrregularityRule admit{"scattered_keys", 0.9, -1, 64};  // max_keys < 0: no admission rule
  std::string admit_mode = "reject", admit_fallback = "model";
  bool rule_on() const { return admit.max_keys >= 0; }
};

// Values are checked in check_serving_options (one attnsim error line each, as the
// bad-input catalogue expects), not by CLI11 validators.
inline void add_serving_options(CLI::App* cmd, ServingCliOptions& o) {
  cmd->add_option("--kv-policy", o.kv_policy,
                  "KV cache: reserve (prompt + all outputs held from admission) or preempt (admit by current need; "
                  "the newest request is preempted and recomputed when the cache fills)")
      ->capture_default_str();
  cmd->add_option("--prefill-chunk-tokens", o.prefill_chunk_tokens,
                  "chunked prefill: each step decodes the running batch and prefills up to this many prompt tokens (0 = off)")
      ->capture_default_str();
  cmd->add_option("--max-prefill-tokens", o.max_prefill_tokens,
                  "unchunked prefill: prompt tokens one prefill step may batch over several prompts (0 = one prompt per step)")
      ->capture_default_str();
  cmd->add_option("--pattern-mix", o.pattern_mix,
                  "per-request patterns: a YAML list of {name, share, pattern} (file, name under workloads/serving/, or inline '[...]')");
  cmd->add_option("--admit-max-keys", o.admit.max_keys,
                  "admission rule on: a request is admitted when --admit-quantile of its prompt's query rows attend to at most this many "
                  "keys (--admit-measure)");
  cmd->add_option("--admit-quantile", o.admit.quantile, "share of query rows that must stay within --admit-max-keys, in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--admit-measure", o.admit.measure,
                  "keys (every attended key counts) or scattered_keys (only keys outside whole aligned blocks of --admit-block-tokens)")
      ->capture_default_str();
  cmd->add_option("--admit-block-tokens", o.admit.block_tokens, "key block of the block-sparse kernel (scattered_keys)")->capture_default_str();
  cmd->add_option("--admit-mode", o.admit_mode, "reject the irregular requests, or downgrade them to --admit-fallback")->capture_default_str();
  cmd->add_option("--admit-fallback", o.admit_fallback,
                  "pattern a downgraded request is served with: a mix entry's name, 'model' or a mapping like '{name: causal}'")
      ->capture_default_str();
}

// Bad values and combinations the options cannot express, each refused with one line.
inline void check_serving_options(const CLI::App* cmd, const ServingCliOptions& o, int cp) {
  if (o.kv_policy != "reserve" && o.kv_policy != "preempt") {
    throw Error("--kv-policy '" + o.kv_policy + "': expected reserve (hold prompt + outputs from admission) or preempt "
                "(admit by current need, recompute the newest request when the cache fills)");
  }
  const int64_t max_tokens = int64_t{1} << 30;
  for (const auto& [flag, v] : {std::pair{"--prefill-chunk-tokens", o.prefill_chunk_tokens}, {"--max-prefill-tokens", o.max_prefill_tokens}}) {
    if (v < 0 || v > max_tokens) throw Error(std::string(flag) + " " + std::to_string(v) + ": expected 0 (off) or a token count up to 2^30");
  }
  if (o.prefill_chunk_tokens > 0 && o.max_prefill_tokens > 0) {
    throw Error("--max-prefill-tokens applies to unchunked prefill; with --prefill-chunk-tokens the chunk budget already "
                "batches several prompts: give one of the two");
  }
  if (o.prefill_chunk_tokens > 0 && cp > 1) {
    throw Error("--prefill-chunk-tokens needs --cp 1 (ring attention over a prefill chunk is not modelled)");
  }
  if (!o.rule_on()) {
    if (cmd->count("--admit-max-keys")) throw Error("--admit-max-keys " + std::to_string(o.admit.max_keys) + ": expected a key count >= 0");
    for (const char* flag : {"--admit-quantile", "--admit-measure", "--admit-block-tokens", "--admit-mode", "--admit-fallback"}) {
      if (cmd->count(flag)) throw Error(std::string(flag) + " belongs to the admission rule, which is off: add --admit-max-keys N");
    }
  }
  if (!(o.admit.quantile > 0 && o.admit.quantile <= 1)) {
    std::ostringstream v;
    v << o.admit.quantile;
    throw Error("--admit-quantile " + v.str() + ": expected a share of query rows in (0, 1], e.g. 0.9");
  }
  if (o.admit.measure != "keys" && o.admit.measure != "scattered_keys") {
    throw Error("--admit-measure '" + o.admit.measure + "': expected keys (every attended key) or scattered_keys (keys outside whole blocks)");
  }
  if (o.admit.block_tokens < 1 || o.admit.block_tokens > (int64_t{1} << 20)) {
    throw Error("--admit-block-tokens " + std::to_string(o.admit.block_tokens) + ": expected a block of 1 to 2^20 keys (e.g. 64)");
  }
  if (o.admit_mode != "reject" && o.admit_mode != "downgrade") {
    throw Error("--admit-mode '" + o.admit_mode + "': expected reject or downgrade");
  }
  if (cmd->count("--admit-fallback") && o.admit_mode != "downgrade") {
    throw Error("--admit-fallback applies to --admit-mode downgrade (rejected requests are not served)");
  }
}

inline ServingOptions scheduler_options(const ServingCliOptions& o, int64_t max_batch, int64_t kv_capacity_tokens) {
  ServingOptions s;
  s.max_batch = max_batch;
  s.kv_capacity_tokens = kv_capacity_tokens;
  s.prefill_chunk_tokens = o.prefill_chunk_tokens;
  s.max_prefill_tokens = o.max_prefill_tokens;
  s.kv_policy = o.kv_policy == "preempt" ? KvPolicy::preempt : KvPolicy::reserve;
  return s;
}

inline AdmissionRule admission_rule(const ServingCliOptions& o, const PatternSet& set) {
  return AdmissionRule{o.rule_on(), o.admit_mode == "downgrade", set.fallback};
}

// The classes a run needs: the mix (or the model's own patterns) and, when downgrading, the fallback.
inline PatternSet serving_patterns(const ServingCliOptions& o, const ModelSpec& model, PatternMix* mix) {
  if (!o.pattern_mix.empty()) *mix = parse_pattern_mix(o.pattern_mix, model);
  const bool downgrade = o.rule_on() && o.admit_mode == "downgrade";
  return pattern_set(*mix, downgrade ? o.admit_fallback : "", model);
}

}  // namespace attnsim

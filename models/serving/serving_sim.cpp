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

struct Seq {
  int64_t target = 0;     // tokens its next prefill covers: prompt + outputs made before it
  int64_t prefilled = 0;  // of target, already in the cache (chunked prefill)
  int64_t made = 0;       // output tokens made
  int64_t context = 0;    // decoding: keys of its next decode step (prompt + made)
  int64_t held = 0;       // KV tokens counted against the cache
  double first_token_s = -1;
  bool decoding = false;
};

struct Piece {
  size_t i;
  int64_t tokens;
};

class Server {
 public:
  Server(const std::vector<Request>& reqs, StepTable& steps, const ServingOptions& o)
      : reqs_(reqs), steps_(steps), o_(o), seq_(reqs.size()), done_at_(reqs.size(), -1) {
    r_.requests = static_cast<int64_t>(reqs.size());
    r_.outcomes.resize(reqs.size());
    for (size_t i = 0; i < reqs.size(); ++i) {
      r_.outcomes[i].id = reqs[i].id;
      r_.outcomes[i].pattern = std::max(0, reqs[i].pattern);
      seq_[i].target = reqs[i].prompt_tokens;
    }
  }

  ServingResult run();

 private:
  // Advances the clock to `to`, integrating the number of requests in the system.
  void advance(double to) {
    in_system_integral_ += static_cast<double>(in_system_) * (to - t_);
    t_ = to;
  }
  void arrive_until(double to);
  int64_t need(size_t i) const {
    const Request& q = reqs_[i];
    return o_.kv_policy == KvPolicy::reserve ? q.prompt_tokens + q.output_tokens : seq_[i].target + 1;
  }
  bool admissible(size_t i) const {
    return static_cast<int64_t>(active_.size()) < o_.max_batch && kv_used_ + need(i) <= o_.kv_capacity_tokens;
  }
  void admit(size_t i) {
    waiting_.pop_front();
    active_.push_back(i);
    seq_[i].held = need(i);
    kv_used_ += seq_[i].held;
  }
  void preempt_newest();
  std::vector<Piece> whole_prompts();
  std::vector<Piece> chunks();
  void step(const std::vector<Piece>& pieces, bool decode);
  void finish(size_t i);

  const std::vector<Request>& reqs_;
  StepTable& steps_;
  const ServingOptions& o_;
  std::vector<Seq> seq_;
  std::vector<double> done_at_;
  std::deque<size_t> waiting_;
  std::vector<size_t> active_;  // admitted (being prefilled or decoding), in admission order
  ServingResult r_;
  std::vector<double> ttft_, tpot_, e2e_, queue_;
  int64_t kv_used_ = 0, in_system_ = 0;
  size_t next_ = 0;
  double t_ = 0, in_system_integral_ = 0, batch_sum_ = 0;
};

void Server::arrive_until(double to) {
  while (next_ < reqs_.size() && reqs_[next_].arrival_s <= to) {
    advance(std::max(t_, reqs_[next_].arrival_s));
    const Request& q = reqs_[next_];
    if (q.prompt_tokens + q.output_tokens > o_.kv_capacity_tokens) {
      ++r_.rejected;  // could never fit, even alone
    } else {
      waiting_.push_back(next_);
      ++in_system_;
    }
    ++next_;
  }
  advance(std::max(t_, to));
}

// The newest admitted request goes back to the front of the queue with its KV dropped.
void Server::preempt_newest() {
  const size_t i = active_.back();
  active_.pop_back();
  Seq& s = seq_[i];
  kv_used_ -= s.held;
  s.held = 0;
  r_.recomputed_tokens += s.decoding ? s.context - 1 : s.prefilled;  // KV in the cache, to be made again
  s.target = reqs_[i].prompt_tokens + s.made;
  s.prefilled = 0;
  s.decoding = false;
  waiting_.push_front(i);
  ++r_.preemptions;
  ++r_.outcomes[i].preemptions;
}

// Unchunked: the oldest admissible prompt, and the next ones while within max_prefill_tokens.
std::vector<Piece> Server::whole_prompts() {
  std::vector<Piece> out;
  int64_t tokens = 0;
  while (!waiting_.empty()) {
    const size_t i = waiting_.front();
    if (!admissible(i)) break;
    if (!out.empty() && (o_.max_prefill_tokens == 0 || tokens + seq_[i].target > o_.max_prefill_tokens)) break;
    admit(i);
    out.push_back({i, seq_[i].target});
    tokens += seq_[i].target;
  }
  return out;
}

// Chunked: up to prefill_chunk_tokens prompt tokens, admitted prompts first, then new ones.
std::vector<Piece> Server::chunks() {
  std::vector<Piece> out;
  int64_t budget = o_.prefill_chunk_tokens;
  for (size_t i : active_) {
    if (budget == 0) break;
    if (seq_[i].decoding) continue;
    const int64_t n = std::min(budget, seq_[i].target - seq_[i].prefilled);
    out.push_back({i, n});
    budget -= n;
  }
  while (budget > 0 && !waiting_.empty() && admissible(waiting_.front())) {
    const size_t i = waiting_.front();
    admit(i);
    const int64_t n = std::min(budget, seq_[i].target);
    out.push_back({i, n});
    budget -= n;
  }
  return out;
}

void Server::finish(size_t i) {
  const Request& q = reqs_[i];
  Seq& s = seq_[i];
  RequestOutcome& oc = r_.outcomes[i];
  done_at_[i] = t_;
  e2e_.push_back(t_ - q.arrival_s);
  oc.e2e_s = t_ - q.arrival_s;
  oc.completed = true;
  if (q.output_tokens > 1) {
    tpot_.push_back((t_ - s.first_token_s) / static_cast<double>(q.output_tokens - 1));
    oc.tpot_s = tpot_.back();
  }
  kv_used_ -= s.held;
  s.held = 0;
  --in_system_;
  ++r_.completed;
  r_.output_tokens += q.output_tokens;
}

void Server::step(const std::vector<Piece>& pieces, bool decode) {
  StepWork w;
  int64_t batch = 0;
  if (decode) {
    for (size_t i : active_) {
      if (!seq_[i].decoding) continue;
      const int cls = r_.outcomes[i].pattern;
      auto g = std::find_if(w.decode.begin(), w.decode.end(), [&](const DecodeGroup& x) { return x.pattern == cls; });
      if (g == w.decode.end()) g = w.decode.insert(w.decode.end(), DecodeGroup{cls, 0, 0});
      ++g->batch;
      g->context_sum += seq_[i].context;
      ++batch;
    }
  }
  for (const Piece& p : pieces) {
    const Seq& s = seq_[p.i];
    if (r_.outcomes[p.i].queue_s < 0) {
      queue_.push_back(t_ - reqs_[p.i].arrival_s);
      r_.outcomes[p.i].queue_s = queue_.back();
    }
    w.prefill.push_back({r_.outcomes[p.i].pattern, p.tokens, s.prefilled + p.tokens, s.prefilled + p.tokens == s.target});
  }
  const StepTime st = steps_.step(w);
  r_.attention_s += st.attention_s;
  r_.prefill_s += st.prefill_s;
  r_.decode_s += st.time_s - st.prefill_s;
  if (!pieces.empty()) ++r_.prefill_steps;
  if (batch > 0) {
    ++r_.decode_steps;
    batch_sum_ += static_cast<double>(batch);
  }
  arrive_until(t_ + st.time_s);
  // Decoding sequences each made a token; then the prompts this step finished made theirs.
  std::vector<bool> done(active_.size(), false);
  for (size_t k = 0; k < active_.size() && batch > 0; ++k) {
    Seq& s = seq_[active_[k]];
    if (!s.decoding) continue;
    ++s.context;
    ++s.made;
    if (o_.kv_policy == KvPolicy::preempt) {
      ++s.held;
      ++kv_used_;
    }
    if (s.made == reqs_[active_[k]].output_tokens) {
      finish(active_[k]);
      done[k] = true;
    }
  }
  for (const Piece& p : pieces) {
    Seq& s = seq_[p.i];
    s.prefilled += p.tokens;
    if (s.prefilled < s.target) continue;
    const Request& q = reqs_[p.i];
    if (s.made++ == 0) {
      ttft_.push_back(t_ - q.arrival_s);
      r_.outcomes[p.i].ttft_s = ttft_.back();
      s.first_token_s = t_;
      r_.input_tokens += q.prompt_tokens;
    }
    s.decoding = true;
    s.context = q.prompt_tokens + s.made;
    if (s.made == q.output_tokens) {
      finish(p.i);
      done[static_cast<size_t>(std::find(active_.begin(), active_.end(), p.i) - active_.begin())] = true;
    }
  }
  size_t keep = 0;
  for (size_t k = 0; k < active_.size(); ++k) {
    if (!done[k]) active_[keep++] = active_[k];
  }
  active_.resize(keep);
}

ServingResult Server::run() {
  const bool chunked = o_.prefill_chunk_tokens > 0;
  while (next_ < reqs_.size() || !waiting_.empty() || !active_.empty()) {
    arrive_until(t_);
    if (o_.kv_policy == KvPolicy::preempt) {
      while (kv_used_ > o_.kv_capacity_tokens) preempt_newest();
    }
    const bool decoding = std::any_of(active_.begin(), active_.end(), [&](size_t i) { return seq_[i].decoding; });
    const std::vector<Piece> pieces = chunked ? chunks() : whole_prompts();
    if (!pieces.empty() || decoding) {
      step(pieces, chunked ? decoding : pieces.empty());
    } else if (next_ < reqs_.size()) {
      arrive_until(reqs_[next_].arrival_s);  // idle until the next arrival
    } else {
      throw Error("serving: a waiting request can never be admitted (internal)");
    }
  }
  r_.makespan_s = t_;
  r_.busy_s = r_.prefill_s + r_.decode_s;
  r_.ttft_s = percentiles(ttft_);
  r_.tpot_s = percentiles(tpot_);
  r_.e2e_s = percentiles(e2e_);
  r_.queue_s = percentiles(queue_);
  r_.mean_in_system = t_ > 0 ? in_system_integral_ / t_ : 0;
  r_.mean_running_batch = r_.decode_steps ? batch_sum_ / static_cast<double>(r_.decode_steps) : 0;
  r_.output_tokens_per_s = t_ > 0 ? static_cast<double>(r_.output_tokens) / t_ : 0;
  r_.requests_per_s = t_ > 0 ? static_cast<double>(r_.completed) / t_ : 0;
  for (size_t i = 0; i < done_at_.size(); ++i) {
    if (done_at_[i] >= 0) r_.latency_s.push_back(done_at_[i] - reqs_[i].arrival_s);
  }
  return std::move(r_);
}

}  // namespace

ServingResult simulate_serving(const std::vector<Request>& reqs, StepTable& steps, const ServingOptions& o) {
  if (o.max_batch < 1) throw Error("serving: max_batch must be >= 1");
  if (o.prefill_chunk_tokens < 0 || o.max_prefill_tokens < 0) throw Error("serving: prefill token limits must be >= 0");
  return Server(reqs, steps, o).run();
}

}  // namespace attnsim

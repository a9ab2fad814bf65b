#include "sim/validate/validate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "sim/core/error.h"
#include "sim/core/forked_map.h"
#include "sim/core/progress.h"
#include "sim/report/report.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

std::string normalized(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A config matches when every '-'-separated token of its name occurs in the
// recorded hardware model name ("H100-SXM" matches "H100 SXM").
std::string match_hw(const MeasuredCase& c, const std::vector<HwSpec>& configs) {
  const std::string model = normalized(c.hardware_model.empty() ? c.hardware : c.hardware_model);
  for (const HwSpec& hw : configs) {
    bool all = true;
    std::stringstream ss(hw.name);
    std::string tok;
    while (std::getline(ss, tok, '-')) all = all && model.find(normalized(tok)) != std::string::npos;
    if (all) return hw.source_path;
  }
  return "";
}

// The same chip at another SM clock: on-chip bandwidths scale with it, DRAM does not.
HwSpec at_clock(HwSpec hw, double clock_hz) {
  const double ratio = clock_hz / hw.clock_hz;
  hw.clock_hz = clock_hz;
  for (MemoryLevel& l : hw.memory) {
    if (l.kind != MemoryKind::dram) l.bandwidth_bytes_per_s *= ratio;
  }
  return hw;
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = (static_cast<double>(i) + static_cast<double>(j)) / 2.0;
    i = j + 1;
  }
  return r;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i] / n, mb += b[i] / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

// Simulated cases grouped by kernel family, in name order.
std::map<std::string, std::vector<const CaseResult*>> by_family(const std::vector<CaseResult>& cases) {
  std::map<std::string, std::vector<const CaseResult*>> out;
  for (const CaseResult& c : cases) {
    if (c.skipped.empty()) out[c.family].push_back(&c);
  }
  return out;
}

// Cases with Nsight Compute DRAM bytes: how many the model has within `target`, the median and
// the worst relative error of the total (reads + writes).
nlohmann::ordered_json dram_stats(const std::vector<CaseResult>& cases, double target) {
  std::vector<double> errs;
  int64_t within = 0;
  double worst = 0;
  std::string worst_id;
  for (const CaseResult& c : cases) {
    if (!c.skipped.empty() || !(c.measured.dram_bytes > 0) || c.predicted_dram_bytes < 0) continue;
    const double e = (c.predicted_dram_bytes - c.measured.dram_bytes) / c.measured.dram_bytes;
    errs.push_back(std::fabs(e));
    within += std::fabs(e) <= target;
    if (std::fabs(e) > std::fabs(worst)) {
      worst = e;
      worst_id = c.measured.case_id;
    }
  }
  double median = 0;
  if (!errs.empty()) {
    std::sort(errs.begin(), errs.end());
    const size_t m = errs.size() / 2;
    median = errs.size() % 2 ? errs[m] : 0.5 * (errs[m - 1] + errs[m]);
  }
  return {{"cases", static_cast<int64_t>(errs.size())}, {"within_target", within}, {"target", target},
          {"median_abs_error", median}, {"worst_error", worst}, {"worst_case", worst_id}};
}

// One line on the DRAM bytes; "" when no case has them.
std::string dram_summary_line(const ValidationReport& rep) {
  if (!rep.summary.contains("dram") || rep.summary["dram"]["cases"].get<int64_t>() == 0) return "";
  const auto& d = rep.summary["dram"];
  char line[512];
  std::snprintf(line, sizeof line, "DRAM bytes: %lld of %lld kernels within %.0f%%, median |error| %.1f%%, worst %+.1f%% (%s); reported, not gated",
                static_cast<long long>(d["within_target"].get<int64_t>()), static_cast<long long>(d["cases"].get<int64_t>()),
                100 * d["target"].get<double>(), 100 * d["median_abs_error"].get<double>(), 100 * d["worst_error"].get<double>(),
                d["worst_case"].get<std::string>().c_str());
  return line;
}

}  // namespace

std::string attnsim_kernel_for(const std::string& k) {
  static const std::map<std::string, std::string> table = {
      {"fa2", "fa2"},
      {"fa3", "fa3"},
      {"flex", "flex"},
      {"mem_efficient", "mem_efficient"},
      {"decode_fa2", "flash_decoding"},
      {"decode_fa3", "cudnn_decode"},
      {"decode_mem_efficient", "mem_efficient_decode"},
  };
  auto it = table.find(k);
  return it == table.end() ? "" : it->second;
}

ErrorStats error_stats(const std::vector<const CaseResult*>& cases) {
  ErrorStats st;
  std::vector<double> p, m;
  for (const CaseResult* c : cases) {
    const double e = std::fabs(c->predicted_us - c->measured.time_us) / c->measured.time_us;
    const double be = std::fabs(c->baseline_us - c->measured.time_us) / c->measured.time_us;
    st.mape += e;
    st.baseline_mape += be;
    st.max_abs_error = std::max(st.max_abs_error, e);
    st.baseline_max = std::max(st.baseline_max, be);
    p.push_back(c->predicted_us);
    m.push_back(c->measured.time_us);
    ++st.n;
  }
  if (st.n > 0) {
    st.mape /= static_cast<double>(st.n);
    st.baseline_mape /= static_cast<double>(st.n);
  }
  st.spearman = st.n > 1 ? pearson(ranks(p), ranks(m)) : 0;
  return st;
}

ValidationReport run_validation(const ValidateOptions& opt, const Targets& targets) {
  std::vector<MeasuredCase> measured;
  // Timed files first, Nsight Compute files last, so bytes attach to their cases.
  std::vector<std::string> files = opt.files;
  std::stable_partition(files.begin(), files.end(),
                        [](const std::string& f) { return f.find("ncu") == std::string::npos; });
  for (const std::string& f : files) read_measurements(f, measured);
  if (measured.empty()) throw Error("no attention measurements (phase prefill/decode, status ok) in the given files");

  std::vector<HwSpec> configs;
  for (const std::string& p : list_hw_configs()) configs.push_back(load_hw_spec(p));
  if (!opt.hw.empty()) configs.insert(configs.begin(), load_hw_spec(resolve_hw_path(opt.hw)));
  auto config_at = [&configs](const std::string& path) -> const HwSpec& {
    for (const HwSpec& hw : configs) {
      if (hw.source_path == path) return hw;
    }
    throw Error(path + ": hardware config not loaded");
  };
  struct Todo {
    size_t result;  // index in report.cases
    HwSpec hw;
  };
  std::vector<Todo> todo;
  ValidationReport report;
  Progress progress("re-simulating " + std::to_string(measured.size()) + " measured cases", opt.progress);
  for (MeasuredCase& mc : measured) {
    CaseResult r;
    r.measured = mc;
    r.calibration = is_calibration_case(mc.case_id);
    r.attnsim_kernel = attnsim_kernel_for(mc.kernel);
    r.family = std::string(mc.workload.shape.phase == Phase::decode ? "decode/" : "prefill/") + mc.kernel;
    if (opt.max_kv_len > 0 && mc.workload.shape.kv_len > opt.max_kv_len) continue;
    if (!opt.only_set.empty() && (opt.only_set == "calibration") != r.calibration) continue;
    if (!opt.only_family.empty() && opt.only_family != r.family) continue;
    if (r.attnsim_kernel.empty()) {
      r.skipped = "no attnsim kernel models measured kernel '" + mc.kernel + "'";
      report.cases.push_back(r);
      continue;
    }
    const std::string hw_path = opt.hw.empty() ? match_hw(mc, configs) : configs.front().source_path;
    if (hw_path.empty()) {
      throw Error(mc.source + ": no hardware config matches '" + mc.hardware +
                  "'; pass --hw NAME (see attnsim hw) to choose one");
    }
    HwSpec hw = config_at(hw_path);
    if (opt.measured_clock && mc.sm_clock_mhz > 0) hw = at_clock(hw, mc.sm_clock_mhz * 1e6);
    if (!find_timing_model(hw.arch)) throw Error("no timing model for arch '" + hw.arch + "'");
    todo.push_back({report.cases.size(), std::move(hw)});
    report.cases.push_back(r);
  }
  // The simulations, on forked processes (each case is independent; results do not depend on
  // the number of workers).
  const std::vector<std::string> lines = forked_map(
      todo.size(), opt.jobs,
      [&](size_t i) {
        const CaseResult& r = report.cases[todo[i].result];
        const HwSpec& hw = todo[i].hw;
        Session ses = prepare_session(hw, r.measured.workload, r.attnsim_kernel, false);
        nlohmann::ordered_json result;
        result["work"] = work_json(ses);
        find_timing_model(hw.arch)->simulate(ses, result);
        const auto& dram = result["traffic"][hw.dram().name];
        // Roofline baseline: compulsory FLOPs at the kernel's peak, or compulsory bytes at peak HBM.
        const double flops = result["work"]["useful_flops"].get<double>();
        const double bytes = result["work"]["min_hbm_bytes"].get<double>();
        const double baseline_s = std::max(flops / hw.peak_flops(ses.kernel->spec().mma_path, r.measured.workload.shape.dtype),
                                           bytes / hw.dram().bandwidth_bytes_per_s);
        return nlohmann::json{result["timing"]["latency_us"], result["timing"]["bound"], dram["read_bytes"],
                              dram["write_bytes"], 1e6 * baseline_s}
            .dump();
      },
      "validate");
  for (size_t i = 0; i < todo.size(); ++i) {
    CaseResult& r = report.cases[todo[i].result];
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    r.predicted_us = j[0].get<double>();
    r.bound = j[1].get<std::string>();
    r.predicted_dram_read_bytes = j[2].get<double>();
    r.predicted_dram_write_bytes = j[3].get<double>();
    r.predicted_dram_bytes = r.predicted_dram_read_bytes + r.predicted_dram_write_bytes;
    r.baseline_us = j[4].get<double>();
  }
  // One efficiency constant per kernel family for the baseline, fitted on all its cases (in-sample).
  std::map<std::string, std::vector<CaseResult*>> families;
  for (CaseResult& c : report.cases) {
    if (c.skipped.empty()) families[c.family].push_back(&c);
  }
  for (auto& [name, list] : families) {
    double best_eff = 1, best = 1e300;
    for (double eff = 0.02; eff <= 1.5; eff += 0.001) {
      double mape = 0;
      for (const CaseResult* c : list) mape += std::fabs(c->baseline_us / eff - c->measured.time_us) / c->measured.time_us;
      if (mape < best) best = mape, best_eff = eff;
    }
    for (CaseResult* c : list) c->baseline_us /= best_eff;
    report.summary["baseline_efficiency"][name] = best_eff;
  }
  // Gate on the validation set.
  auto gated = [&](const CaseResult& c) {
    if (c.family.rfind("prefill", 0) != 0) return true;
    return std::find(targets.prefill_gated.begin(), targets.prefill_gated.end(), c.family) != targets.prefill_gated.end();
  };
  auto select = [&](const std::string& phase, int set) {  // set: 0 validation, 1 calibration, 2 all
    std::vector<const CaseResult*> out;
    for (const CaseResult& c : report.cases) {
      if (!c.skipped.empty() || c.family.rfind(phase, 0) != 0 || !gated(c)) continue;
      if (set == 2 || (set == 1) == c.calibration) out.push_back(&c);
    }
    return out;
  };
  report.pass = true;
  for (const std::string phase : {"prefill", "decode"}) {
    for (int set : {0, 1, 2}) {
      const ErrorStats st = error_stats(select(phase, set));
      const char* set_name = set == 0 ? "validation" : set == 1 ? "calibration" : "all";
      report.summary[phase][set_name] = {{"cases", st.n},          {"mape", st.mape},
                                         {"max_error", st.max_abs_error}, {"spearman", st.spearman},
                                         {"baseline_mape", st.baseline_mape}, {"baseline_max_error", st.baseline_max}};
      if (set != 0 || st.n == 0) continue;
      const bool prefill = phase == "prefill";
      const double mape_t = prefill ? targets.prefill_mape : targets.decode_mape;
      const double max_t = prefill ? targets.prefill_max : targets.decode_max;
      char buf[200];
      if (st.mape > mape_t) {
        std::snprintf(buf, sizeof buf, "%s validation MAPE %.1f%% > target %.0f%%", phase.c_str(), 100 * st.mape, 100 * mape_t);
        report.failures.push_back(buf);
      }
      if (st.max_abs_error > max_t) {
        std::snprintf(buf, sizeof buf, "%s validation max error %.1f%% > target %.0f%%", phase.c_str(),
                      100 * st.max_abs_error, 100 * max_t);
        report.failures.push_back(buf);
      }
      if (prefill && st.n >= 3 && st.spearman < targets.prefill_spearman) {  // ranks need a few cases
        std::snprintf(buf, sizeof buf, "prefill validation Spearman %.3f < target %.2f", st.spearman, targets.prefill_spearman);
        report.failures.push_back(buf);
      }
    }
  }
  if (report.summary["prefill"]["validation"]["cases"].get<int64_t>() +
          report.summary["decode"]["validation"]["cases"].get<int64_t>() == 0) {
    report.failures.push_back("no validation-set case was simulated, so the targets were not checked");
  }
  report.pass = report.failures.empty();
  report.summary["dram"] = dram_stats(report.cases, targets.dram_error);
  return report;
}

std::string render_validation_text(const ValidationReport& rep) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-48s %-5s %-22s %11s %11s %8s %8s %-9s\n", "case", "set", "attnsim kernel",
                "measured_us", "attnsim_us", "error", "roofline", "bound");
  out << line;
  for (const CaseResult& c : rep.cases) {
    if (!c.skipped.empty()) {
      out << c.measured.case_id << ": skipped (" << c.skipped << ")\n";
      continue;
    }
    std::snprintf(line, sizeof line, "%-48s %-5s %-22s %11.1f %11.1f %+7.1f%% %+7.1f%% %-9s\n", c.measured.case_id.c_str(),
                  c.calibration ? "cal" : "val", c.attnsim_kernel.c_str(), c.measured.time_us, c.predicted_us,
                  100 * (c.predicted_us - c.measured.time_us) / c.measured.time_us,
                  100 * (c.baseline_us - c.measured.time_us) / c.measured.time_us, c.bound.c_str());
    out << line;
  }
  out << "\nper kernel family (all cases): attnsim vs roofline with one fitted efficiency per family\n";
  const auto fam = by_family(rep.cases);
  for (const auto& [name, list] : fam) {
    const ErrorStats st = error_stats(list);
    std::snprintf(line, sizeof line, "  %-28s n=%3lld  attnsim MAPE %5.1f%% max %5.1f%%   roofline MAPE %5.1f%% max %5.1f%%  spearman %.3f\n",
                  name.c_str(), static_cast<long long>(st.n), 100 * st.mape, 100 * st.max_abs_error,
                  100 * st.baseline_mape, 100 * st.baseline_max, st.spearman);
    out << line;
  }
  out << "\n";
  out << "targets gate the validation set; prefill rows cover fa2, fa3 and flex only\n";
  for (const std::string phase : {"prefill", "decode"}) {
    for (const std::string set : {"calibration", "validation"}) {
      const auto& s = rep.summary[phase][set];
      std::snprintf(line, sizeof line, "%-8s %-11s n=%3lld  MAPE %5.1f%%  max %5.1f%%  spearman %.3f   (roofline MAPE %5.1f%%, max %5.1f%%)\n",
                    phase.c_str(), set.c_str(), static_cast<long long>(s["cases"].get<int64_t>()),
                    100 * s["mape"].get<double>(), 100 * s["max_error"].get<double>(), s["spearman"].get<double>(),
                    100 * s["baseline_mape"].get<double>(), 100 * s["baseline_max_error"].get<double>());
      out << line;
    }
  }
  int64_t with_bytes = 0;
  for (const CaseResult& c : rep.cases) {
    if (c.skipped.empty() && c.measured.dram_bytes > 0) {
      if (with_bytes++ == 0) out << "\nDRAM bytes (Nsight Compute) vs attnsim:\n";
      std::snprintf(line, sizeof line, "  %-48s measured %10.1f MB  attnsim %10.1f MB  %+6.1f%%\n", c.measured.case_id.c_str(),
                    c.measured.dram_bytes / 1e6, c.predicted_dram_bytes / 1e6,
                    100 * (c.predicted_dram_bytes - c.measured.dram_bytes) / c.measured.dram_bytes);
      out << line;
    }
  }
  if (with_bytes > 0) out << dram_summary_line(rep) << "\n";
  out << (rep.pass ? "\nPASS: validation-set targets met\n" : "\nFAIL:\n");
  for (const std::string& f : rep.failures) out << "  " << f << "\n";
  return out.str();
}

std::string render_validation_csv(const ValidationReport& rep) {
  std::ostringstream out;
  out << "case_id,set,family,attnsim_kernel,measured_us,attnsim_us,roofline_us,measured_dram_bytes,attnsim_dram_bytes,bound,"
         "measured_dram_read_bytes,measured_dram_write_bytes,attnsim_dram_read_bytes,attnsim_dram_write_bytes\n";
  for (const CaseResult& c : rep.cases) {
    if (!c.skipped.empty()) continue;
    out << c.measured.case_id << "," << (c.calibration ? "calibration" : "validation") << "," << c.family << ","
        << c.attnsim_kernel << "," << c.measured.time_us << "," << c.predicted_us << "," << c.baseline_us << ","
        << c.measured.dram_bytes << "," << c.predicted_dram_bytes << "," << c.bound << "," << c.measured.dram_read_bytes << ","
        << c.measured.dram_write_bytes << "," << c.predicted_dram_read_bytes << "," << c.predicted_dram_write_bytes << "\n";
  }
  return out.str();
}

std::string render_validation_markdown(const ValidationReport& rep) {
  std::ostringstream out;
  out << "| set | phase | cases | attnsim MAPE | attnsim max | Spearman | roofline MAPE | roofline max |\n"
      << "|---|---|---|---|---|---|---|---|\n";
  char line[256];
  for (const std::string phase : {"prefill", "decode"}) {
    for (const std::string set : {"calibration", "validation"}) {
      const auto& s = rep.summary[phase][set];
      std::snprintf(line, sizeof line, "| %s | %s | %lld | %.1f%% | %.1f%% | %.3f | %.1f%% | %.1f%% |\n", set.c_str(),
                    phase.c_str(), static_cast<long long>(s["cases"].get<int64_t>()), 100 * s["mape"].get<double>(),
                    100 * s["max_error"].get<double>(), s["spearman"].get<double>(), 100 * s["baseline_mape"].get<double>(),
                    100 * s["baseline_max_error"].get<double>());
      out << line;
    }
  }
  out << "\n| kernel family | cases | attnsim MAPE | attnsim max | roofline MAPE | roofline max |\n|---|---|---|---|---|---|\n";
  const auto fam = by_family(rep.cases);
  for (const auto& [name, list] : fam) {
    const ErrorStats st = error_stats(list);
    std::snprintf(line, sizeof line, "| %s | %lld | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", name.c_str(),
                  static_cast<long long>(st.n), 100 * st.mape, 100 * st.max_abs_error, 100 * st.baseline_mape,
                  100 * st.baseline_max);
    out << line;
  }
  const std::string dram = dram_summary_line(rep);
  if (!dram.empty()) out << "\n" << dram << ".\n";
  return out.str();
}

}  // namespace attnsim

#include "sim/report/comparison.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "sim/core/units.h"
#include "sim/timing/timing_model.h"

namespace attnsim {

namespace {

// Workload keys that depend on the hardware (its default kernel and that kernel's tiles).
const char* kPerHardwareKeys[] = {"hardware", "kernel", "q_block", "kv_block", "kv_splits"};

const char* kind_label(MemoryKind k) {
  switch (k) {
    case MemoryKind::scratchpad: return "on-chip scratchpad";
    case MemoryKind::cache: return "cache";
    case MemoryKind::dram: return "DRAM";
  }
  return "?";
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string percent(double fraction) { return fixed(100 * fraction, 1) + "%"; }

// A member of an object, or null when absent (const operator[] must not see a missing key).
const nlohmann::ordered_json& member(const nlohmann::ordered_json& obj, const std::string& key) {
  static const nlohmann::ordered_json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it != obj.end() ? *it : kNull;
}

// A number from an object, or nullptr when absent or not a number.
const nlohmann::ordered_json* number_at(const nlohmann::ordered_json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? &*it : nullptr;
}

template <class Format>
std::string cell(const nlohmann::ordered_json& obj, const std::string& key, Format format) {
  const auto* v = number_at(obj, key);
  return v ? format(v->get<double>()) : "n/a";
}

template <size_t N>
std::string utilization_cell(const nlohmann::ordered_json& timing, const char* const (&keys)[N]) {
  for (const char* k : keys) {
    if (number_at(timing, k)) return cell(timing, k, percent);
  }
  return "n/a";
}

struct Table {
  std::vector<std::vector<std::string>> rows;  // label, then one cell per run (and the ratio)
  void add(std::vector<std::string> row) { rows.push_back(std::move(row)); }
  std::string render() const {
    std::vector<size_t> width;
    for (const auto& r : rows) {
      width.resize(std::max(width.size(), r.size()), 0);
      for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::ostringstream out;
    for (const auto& r : rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
    }
    return out.str();
  }
};

std::string workload_line(const nlohmann::ordered_json& w) {
  auto text = [&](const char* k) {
    const auto it = w.find(k);
    if (it == w.end()) return std::string("?");
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  return "workload " + text("name") + ": " + text("pattern") + ", " + text("phase") + ", " + text("dtype") +
         ", batch " + text("batch") + ", heads " + text("q_heads") + "/" + text("kv_heads") + ", head_dim " +
         text("head_dim") + ", q_len " + text("q_len") + ", kv_len " + text("kv_len");
}

}  // namespace

nlohmann::ordered_json comparison_json(const std::vector<ComparedRun>& runs) {
  nlohmann::ordered_json doc;
  nlohmann::ordered_json workload =
      runs.empty() ? nlohmann::ordered_json::object() : member(runs[0].result, "workload");
  for (const char* k : kPerHardwareKeys) workload.erase(k);
  doc["workload"] = workload;
  doc["results"] = nlohmann::ordered_json::array();
  for (const ComparedRun& r : runs) doc["results"].push_back(r.result);
  return doc;
}

std::string render_comparison(const std::vector<ComparedRun>& runs) {
  const bool ratio = runs.size() == 2;
  Table t;
  std::vector<std::string> head = {""};
  for (const ComparedRun& r : runs) head.push_back(r.label);
  if (ratio) head.push_back(runs[1].label + "/" + runs[0].label);
  t.add(head);

  // One row: the label, then a cell per run from `get(result)`.
  auto row = [&](const std::string& label, auto get) {
    std::vector<std::string> r = {label};
    for (const ComparedRun& run : runs) r.push_back(get(run));
    t.add(r);
  };
  auto timing = [](const ComparedRun& r) -> const nlohmann::ordered_json& { return member(r.result, "timing"); };
  auto text = [](const nlohmann::ordered_json& v) { return v.is_string() ? v.get<std::string>() : std::string("n/a"); };
  row("kernel", [&](const ComparedRun& r) { return text(member(member(r.result, "workload"), "kernel")); });
  row("latency (us)",
      [&](const ComparedRun& r) { return cell(timing(r), "latency_us", [](double x) { return fixed(x, 2); }); });
  if (ratio) {
    const auto* a = number_at(timing(runs[0]), "latency_us");
    const auto* b = number_at(timing(runs[1]), "latency_us");
    t.rows.back().push_back(a && b && a->get<double>() > 0 ? fixed(b->get<double>() / a->get<double>(), 3) : "n/a");
  }
  row("achieved TFLOP/s",
      [&](const ComparedRun& r) { return cell(timing(r), "achieved_tflops", [](double x) { return fixed(x, 1); }); });
  row("executed TFLOP/s",
      [&](const ComparedRun& r) { return cell(timing(r), "executed_tflops", [](double x) { return fixed(x, 1); }); });
  row("matrix-unit utilisation",
      [&](const ComparedRun& r) { return utilization_cell(timing(r), kMatrixUtilizationKeys); });
  row("vector/SFU utilisation",
      [&](const ComparedRun& r) { return utilization_cell(timing(r), kVectorUtilizationKeys); });
  row("bound", [&](const ComparedRun& r) { return text(member(timing(r), "bound")); });

  // Memory levels by role: the i-th level of each kind on every hardware share a group.
  for (MemoryKind kind : {MemoryKind::scratchpad, MemoryKind::cache, MemoryKind::dram}) {
    std::vector<std::vector<const MemoryLevel*>> of_kind(runs.size());
    size_t groups = 0;
    for (size_t i = 0; i < runs.size(); ++i) {
      for (const MemoryLevel& l : runs[i].levels) {
        if (l.kind == kind) of_kind[i].push_back(&l);
      }
      groups = std::max(groups, of_kind[i].size());
    }
    for (size_t g = 0; g < groups; ++g) {
      const std::string label = std::string(kind_label(kind)) + (g > 0 ? " " + std::to_string(g + 1) : "");
      // This group's level on one hardware, or nullptr; `r` is always an element of `runs`.
      auto level = [&](const ComparedRun& r) -> const MemoryLevel* {
        const size_t i = static_cast<size_t>(&r - runs.data());
        return g < of_kind[i].size() ? of_kind[i][g] : nullptr;
      };
      auto traffic = [&](const ComparedRun& r) -> const nlohmann::ordered_json& {
        return member(member(r.result, "traffic"), level(r)->name);
      };
      auto level_cell = [&](const ComparedRun& r, auto format) {
        if (!level(r)) return std::string("-");
        return format(traffic(r));
      };
      row(label, [&](const ComparedRun& r) { return level(r) ? level(r)->name : std::string("-"); });
      row("  read+write", [&](const ComparedRun& r) {
        return level_cell(r, [](const nlohmann::ordered_json& x) {
          const auto* rd = number_at(x, "read_bytes");
          const auto* wr = number_at(x, "write_bytes");
          return rd && wr ? format_bytes(rd->get<double>() + wr->get<double>()) : std::string("n/a");
        });
      });
      row("  avg bandwidth", [&](const ComparedRun& r) {
        return level_cell(r,
                          [](const nlohmann::ordered_json& x) { return cell(x, "avg_bytes_per_s", format_bandwidth); });
      });
      row("  utilisation", [&](const ComparedRun& r) {
        return level_cell(r, [](const nlohmann::ordered_json& x) { return cell(x, "utilization", percent); });
      });
    }
  }

  std::string out = workload_line(comparison_json(runs)["workload"]) + "\n\n" + t.render();
  if (!runs.empty() && member(runs[0].result, "check").is_object()) {
    const auto& c = member(runs[0].result, "check");
    char buf[256];
    std::snprintf(buf, sizeof buf, "\nfunctional check on %s: %s (%s, %s rows, rel_error %.3g)\n",
                  runs[0].label.c_str(), c.value("pass", false) ? "pass" : "FAIL",
                  c.value("mode", std::string("?")).c_str(), member(c, "rows_checked").dump().c_str(),
                  c.value("rel_error", -1.0));
    out += buf;
  }
  return out;
}

}  // namespace attnsim

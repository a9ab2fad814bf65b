// `attnsim compare` through the binary: every cell of its table, and every result of its
// JSON, against what `attnsim run --json` gives for the same hardware, workload and kernel;
// the latency ratio, kernel overrides, --check, errors and determinism.
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "sim/core/units.h"
#include "sim/hw/hw_spec.h"
#include "sim/timing/timing_model.h"
#include "tests/cli_helpers.h"

using namespace attnsim_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

const char* kWorkload =
    "name: cmp\nbatch: 1\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\nphase: prefill\nkv_len: 1000\n"
    "pattern: {name: causal}\n";

// `attnsim run --json -q` for one hardware config; `extra` adds arguments (--no-check, --kernel).
json run_json(const std::string& hw, const fs::path& wl, const CliDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"run", "--hw", hw, "-w", wl.string(), "--json", "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_cli(args, dir.path);
  REQUIRE(r.rc == 0);
  return json::parse(r.out);
}

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// The table's rows: label -> cells, with the rows under a memory group keyed
// "GROUP/label" (e.g. "DRAM/read+write"). Columns are separated by 2+ spaces.
struct ParsedTable {
  std::vector<std::string> header;
  std::map<std::string, std::vector<std::string>> rows;
};

ParsedTable parse_table(const std::string& text) {
  const std::regex gap(" {2,}");
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ParsedTable t;
  REQUIRE(lines.size() > 3);
  REQUIRE(lines[1].empty());
  std::string group;
  for (size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
    const std::string& line = lines[i];
    const bool indented = line.rfind("  ", 0) == 0;
    const std::string body = line.substr(line.find_first_not_of(' '));
    std::vector<std::string> cells(std::sregex_token_iterator(body.begin(), body.end(), gap, -1),
                                   std::sregex_token_iterator());
    if (i == 2) {
      t.header = cells;  // the label column's heading is empty
      continue;
    }
    const std::string label = cells[0];
    cells.erase(cells.begin());
    if (label == "on-chip scratchpad" || label == "cache" || label == "DRAM") group = label;
    t.rows[indented ? group + "/" + label : label] = cells;
  }
  return t;
}

const char* kind_label(attnsim::MemoryKind k) {
  return k == attnsim::MemoryKind::scratchpad ? "on-chip scratchpad"
         : k == attnsim::MemoryKind::cache    ? "cache"
                                              : "DRAM";
}

}  // namespace

TEST_CASE("compare: one column per hardware, each cell equal to run --json", "[cli][compare]") {
  CliDir dir;
  const fs::path wl = dir.path / "cmp.yaml";
  write_text(wl, kWorkload);
  const std::vector<std::string> hws = {"h100-sxm", "a100-sxm", "h200-sxm"};
  const CliResult c =
      run_cli({"compare", "--hw", hws[0], "--hw", hws[1], "--hw", hws[2], "-w", wl.string(), "-q"}, dir.path);
  REQUIRE(c.rc == 0);
  CHECK(c.err.empty());
  CHECK_THAT(c.out, StartsWith("workload cmp: causal, prefill, bf16, batch 1, heads 4/2, head_dim 64, q_len 1000, "
                               "kv_len 1000\n"));
  const ParsedTable t = parse_table(c.out);
  REQUIRE(t.header.size() == hws.size());  // no ratio column with three configs
  for (size_t i = 0; i < hws.size(); ++i) {
    INFO("hardware " << hws[i]);
    const json r = run_json(hws[i], wl, dir, {"--no-check"});
    const json& tm = r["timing"];
    CHECK(t.header[i] == r["workload"]["hardware"]);
    auto cell = [&](const std::string& row) {
      REQUIRE(t.rows.count(row));
      REQUIRE(t.rows.at(row).size() == hws.size());
      return t.rows.at(row)[i];
    };
    CHECK(cell("kernel") == r["workload"]["kernel"]);
    CHECK(cell("latency (us)") == fmt("%.2f", tm["latency_us"]));
    CHECK(cell("achieved TFLOP/s") == fmt("%.1f", tm["achieved_tflops"]));
    CHECK(cell("executed TFLOP/s") == fmt("%.1f", tm["executed_tflops"]));
    CHECK(cell("matrix-unit utilisation") == fmt("%.1f%%", 100 * tm["tensor_core_utilization"].get<double>()));
    CHECK(cell("vector/SFU utilisation") == fmt("%.1f%%", 100 * tm["sfu_utilization"].get<double>()));
    CHECK(cell("bound") == tm["bound"]);
    // Memory rows by role: every level of the config, under its kind, with its own name.
    const attnsim::HwSpec hw = attnsim::load_hw_spec(attnsim::resolve_hw_path(hws[i]));
    REQUIRE(hw.memory.size() == 3);
    for (const attnsim::MemoryLevel& l : hw.memory) {
      INFO("level " << l.name);
      const std::string g = kind_label(l.kind);
      const json& x = r["traffic"][l.name];
      REQUIRE(x.is_object());
      CHECK(cell(g) == l.name);
      CHECK(cell(g + "/read+write") ==
            attnsim::format_bytes(x["read_bytes"].get<double>() + x["write_bytes"].get<double>()));
      CHECK(cell(g + "/avg bandwidth") == attnsim::format_bandwidth(x["avg_bytes_per_s"].get<double>()));
      CHECK(cell(g + "/utilisation") == fmt("%.1f%%", 100 * x["utilization"].get<double>()));
    }
  }
}

TEST_CASE("compare: two configs get a latency ratio column, second over first", "[cli][compare]") {
  CliDir dir;
  const fs::path wl = dir.path / "cmp.yaml";
  write_text(wl, kWorkload);
  const CliResult c = run_cli({"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "-q"}, dir.path);
  REQUIRE(c.rc == 0);
  const ParsedTable t = parse_table(c.out);
  REQUIRE(t.header.size() == 3);
  CHECK(t.header[2] == "A100-SXM/H100-SXM");
  const double h100 = run_json("h100-sxm", wl, dir, {"--no-check"})["timing"]["latency_us"];
  const double a100 = run_json("a100-sxm", wl, dir, {"--no-check"})["timing"]["latency_us"];
  REQUIRE(t.rows.at("latency (us)").size() == 3);
  CHECK(t.rows.at("latency (us)")[2] == fmt("%.3f", a100 / h100));
  CHECK(a100 / h100 > 1);                 // the older GPU is slower on the same layer
  CHECK(t.rows.at("bound").size() == 2);  // only latency has a ratio
}

TEST_CASE("compare --json: each result is run --json's document, -o, --check and --kernel", "[cli][compare]") {
  CliDir dir;
  const fs::path wl = dir.path / "cmp.yaml";
  write_text(wl, kWorkload);
  const CliResult c =
      run_cli({"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "--json", "-q"}, dir.path);
  REQUIRE(c.rc == 0);
  const json j = json::parse(c.out);
  REQUIRE(j.size() == 2);
  CHECK(j["workload"]["name"] == "cmp");
  CHECK(j["workload"]["kv_len"] == 1000);
  for (const char* per_hw : {"hardware", "kernel", "q_block", "kv_block", "kv_splits"})
    CHECK_FALSE(j["workload"].contains(per_hw));
  REQUIRE(j["results"].size() == 2);
  CHECK(j["results"][0] == run_json("h100-sxm", wl, dir, {"--no-check"}));  // no check unless asked
  CHECK(j["results"][1] == run_json("a100-sxm", wl, dir, {"--no-check"}));

  // -o writes the same bytes to the file and nothing to stdout.
  const fs::path out = dir.path / "cmp.json";
  const CliResult o = run_cli(
      {"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "--json", "-q", "-o", out.string()},
      dir.path);
  REQUIRE(o.rc == 0);
  CHECK(o.out.empty());
  CHECK(slurp(out) == c.out);

  // --check runs the sampled check once, on the first config: that result is run's, check included.
  const CliResult k = run_cli(
      {"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "--json", "-q", "--check"}, dir.path);
  REQUIRE(k.rc == 0);
  const json kj = json::parse(k.out);
  CHECK(kj["results"][0] == run_json("h100-sxm", wl, dir, {}));
  CHECK(kj["results"][0]["check"]["pass"] == true);
  CHECK_FALSE(kj["results"][1].contains("check"));
  const CliResult kt =
      run_cli({"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "-q", "--check"}, dir.path);
  REQUIRE(kt.rc == 0);
  CHECK_THAT(kt.out, Contains("\nfunctional check on H100-SXM: pass (sampled, "));

  // --kernel HW=NAME overrides one config's default; a bare --kernel NAME applies to all.
  const CliResult ov = run_cli({"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "--json", "-q",
                                "--kernel", "h100-sxm=fa2"},
                               dir.path);
  REQUIRE(ov.rc == 0);
  const json oj = json::parse(ov.out);
  // This small grid makes FA2 launch its split-KV kernel, as PyTorch's does ("fa2 -> flash_decoding").
  CHECK_THAT(oj["results"][0]["workload"]["kernel"].get<std::string>(), Catch::Matchers::StartsWith("fa2"));
  CHECK(oj["results"][0] == run_json("h100-sxm", wl, dir, {"--no-check", "--kernel", "fa2"}));
  CHECK(oj["results"][1] == j["results"][1]);
  const CliResult all =
      run_cli({"compare", "--hw", "h100-sxm", "--hw", "a100-sxm", "-w", wl.string(), "--json", "-q", "--kernel", "fa2"},
              dir.path);
  REQUIRE(all.rc == 0);
  const json aj = json::parse(all.out);
  CHECK(aj["results"][0] == oj["results"][0]);
  CHECK_THAT(aj["results"][1]["workload"]["kernel"].get<std::string>(), Catch::Matchers::StartsWith("fa2"));
}

TEST_CASE("compare: bad requests are one line, exit 2 and no output file", "[cli][compare]") {
  CliDir dir;
  const fs::path wl = dir.path / "cmp.yaml";
  write_text(wl, kWorkload);
  const fs::path out = dir.path / "never.json";
  auto refused = [&](std::vector<std::string> args, const std::string& fragment) {
    args.insert(args.begin(), "compare");
    args.insert(args.end(), {"-w", wl.string(), "-q", "-o", out.string()});
    const CliResult r = run_cli(args, dir.path);
    INFO("stderr: " << r.err);
    CHECK(r.rc == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, StartsWith("attnsim: error: ") && Contains(fragment));
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(out));
  };
  refused({"--hw", "h100-sxm"}, "compare needs two or more hardware configs (--hw A --hw B), got 1");
  refused({"--hw", "h100-sxm", "--hw", "h100-sxn"}, "unknown hardware 'h100-sxn' (did you mean 'h100-sxm'?)");
  refused({"--hw", "h100-sxm", "--hw", "h100-sxm"}, "--hw h100-sxm given twice");
  refused({"--hw", "h100-sxm", "--hw", "a100-sxm", "--kernel", "b200=fa2"},
          "--kernel b200=fa2: 'b200' is not one of the --hw configs (h100-sxm, a100-sxm)");
  refused({"--hw", "h100-sxm", "--hw", "a100-sxm", "--kernel", "h100-sxm=fa2", "--kernel", "h100-sxm=fa3"},
          "--kernel given twice for 'h100-sxm'");
  refused({"--hw", "h100-sxm", "--hw", "a100-sxm", "--kernel", "fa2", "--kernel", "fa3"},
          "--kernel given twice for every hardware");

  // A config whose architecture has no timing model: refused before anything runs, even when
  // it is not the first. Which architectures lack one changes as models land (today: tpu), so
  // the case uses a copy of any shipped config of such an architecture.
  std::string config;
  std::string arch;
  for (const std::string& p : attnsim::list_hw_configs()) {
    const attnsim::HwSpec hw = attnsim::load_hw_spec(p);
    if (!attnsim::find_timing_model(hw.arch)) {
      config = p;
      arch = hw.arch;
      break;
    }
  }
  if (config.empty()) {
    WARN("every shipped architecture has a timing model: the no-timing-model refusal is not exercised");
    return;
  }
  const fs::path copy = dir.path / "no-model.yaml";
  write_text(copy, slurp(config));
  refused({"--hw", "h100-sxm", "--hw", copy.string()},
          copy.string() + ": no timing model registered for arch '" + arch + "'");
}

TEST_CASE("compare: the same inputs give byte-identical output", "[cli][compare][robustness]") {
  CliDir dir;
  const fs::path wl = dir.path / "cmp.yaml";
  write_text(wl, kWorkload);
  for (const bool as_json : {true, false}) {
    INFO("json " << as_json);
    std::vector<std::string> args = {"compare", "--hw", "a100-sxm", "--hw", "h200-sxm", "-w", wl.string(), "-q"};
    if (as_json) args.push_back("--json");
    const CliResult a = run_cli(args, dir.path), b = run_cli(args, dir.path);
    REQUIRE(a.rc == 0);
    REQUIRE(b.rc == 0);
    CHECK(a.out == b.out);
  }
}

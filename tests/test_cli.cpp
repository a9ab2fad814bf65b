// End-to-end tests of the attnsim binary (ATTNSIM_CLI): the listing commands, `run`
// and `check` with JSON output, external .npy inputs and outputs, and every case in
// tests/bad-inputs/ (exit code 2, one line on stderr, no output file).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/io/npy.h"
#include "tests/cli_helpers.h"

using namespace attnsim_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

const char* kSmallWorkload =
    "name: small\nbatch: 1\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\nphase: prefill\nkv_len: 1000\n"
    "pattern: {name: causal}\n";

}  // namespace

TEST_CASE("cli: hw lists the shipped configs and shows one as JSON", "[cli]") {
  CliDir dir;
  const CliResult list = run_cli({"hw"}, dir.path);
  REQUIRE(list.rc == 0);
  CHECK(list.err.empty());
  size_t configs = 0;
  for (const auto& e : fs::directory_iterator(kRepo / "hw-configs")) configs += e.path().extension() == ".yaml";
  CHECK(configs >= 6);
  CHECK(count_lines(list.out) == configs);  // one line per shipped config
  for (const char* name : {"a100-sxm", "b200", "h100-sxm", "h200-sxm", "tpu-v5e", "tpu-v5p"}) {
    CHECK_THAT(list.out, Contains(std::string(name) + " "));
  }
  const CliResult one = run_cli({"hw", "h100-sxm", "--json"}, dir.path);
  REQUIRE(one.rc == 0);
  const json j = json::parse(one.out);
  CHECK(j["name"] == "H100-SXM");
  CHECK(j["arch"] == "gpu");
  CHECK(j["units"] == 132);
  CHECK(j["peak_tflops"]["wgmma"]["bf16"].get<double>() == Approx(989.4).epsilon(0.001));
  CHECK(j["memory"].size() == 3);
  const CliResult all = run_cli({"hw", "--json"}, dir.path);
  REQUIRE(all.rc == 0);
  CHECK(json::parse(all.out).size() == configs);
  // Text view of one config.
  const CliResult text = run_cli({"hw", "tpu-v5e"}, dir.path);
  REQUIRE(text.rc == 0);
  CHECK_THAT(text.out, Contains("TPU-v5e") && Contains("mxu"));
}

TEST_CASE("cli: patterns lists every registered pattern", "[cli]") {
  CliDir dir;
  const CliResult text = run_cli({"patterns"}, dir.path);
  REQUIRE(text.rc == 0);
  const CliResult js = run_cli({"patterns", "--json"}, dir.path);
  REQUIRE(js.rc == 0);
  const json j = json::parse(js.out);
  const auto names = attnsim::PatternRegistry::instance().names();
  REQUIRE(j.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(j[i]["name"] == names[i]);
    CHECK_THAT(text.out, Contains(names[i] + "\n") || Contains(names[i] + "  (data-dependent)\n"));
  }
}

TEST_CASE("cli: run --json has the workload, mask, work and check sections", "[cli]") {
  CliDir dir;
  const fs::path wl = dir.path / "small.yaml";
  write_text(wl, kSmallWorkload);
  const CliResult r = run_cli({"run", "--hw", "h100-sxm", "-w", wl.string(), "--json", "-q"}, dir.path);
  REQUIRE(r.rc == 0);
  CHECK(r.err.empty());
  const json j = json::parse(r.out);
  for (const char* section : {"workload", "mask", "work", "check"}) {
    INFO(section);
    REQUIRE(j.contains(section));
    CHECK(j[section].is_object());
  }
  CHECK(j["workload"]["name"] == "small");
  CHECK(j["workload"]["hardware"] == "H100-SXM");
  CHECK(j["workload"]["q_heads"] == 4);
  CHECK(j["mask"]["allowed_pairs"].get<double>() == 4.0 * 1000 * 1001 / 2);
  CHECK(j["mask"]["total_blocks"].get<int64_t>() ==
        j["mask"]["full_blocks"].get<int64_t>() + j["mask"]["partial_blocks"].get<int64_t>() +
            j["mask"]["skipped_blocks"].get<int64_t>());
  CHECK(j["work"]["useful_flops"].get<double>() == 4.0 * (4.0 * 1000 * 1001 / 2) * 64);
  CHECK(j["work"]["executed_mma_flops"].get<double>() >= j["work"]["useful_flops"].get<double>());
  CHECK(j["check"]["mode"] == "sampled");
  CHECK(j["check"]["pass"] == true);
  CHECK(j["check"]["rel_error"].get<double>() < 1e-2);

  // -o writes the same document to a file and nothing to stdout; --full-check checks every row.
  const fs::path out = dir.path / "result.json";
  const CliResult o =
      run_cli({"run", "--hw", "h100-sxm", "-w", wl.string(), "--json", "-q", "--full-check", "-o", out.string()},
              dir.path);
  REQUIRE(o.rc == 0);
  CHECK(o.out.empty());
  REQUIRE(fs::exists(out));
  const json f = json::parse(slurp(out));
  CHECK(f["check"]["mode"] == "full");
  CHECK(f["check"]["rows_checked"] == 4000);
  CHECK(f["mask"] == j["mask"]);
  CHECK_FALSE(fs::exists(out.string() + ".tmp"));

  // The text rendering has the same sections; --no-check drops the check.
  const CliResult t = run_cli({"run", "--hw", "h100-sxm", "-w", wl.string(), "-q", "--no-check"}, dir.path);
  REQUIRE(t.rc == 0);
  CHECK_THAT(t.out, StartsWith("workload\n") && Contains("\nmask\n") && Contains("\nwork\n"));
  CHECK_THAT(t.out, !Contains("\ncheck\n"));
}

TEST_CASE("cli: decode run reports the KV splits the trace really uses", "[cli]") {
  CliDir dir;
  const fs::path wl = dir.path / "dec.yaml";
  // 600 keys in 256-key tiles: 3 KV blocks, so at most 3 splits per row whatever the heuristic asks.
  write_text(wl, "name: dec\nbatch: 1\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\nphase: decode\nkv_len: 600\n");
  const CliResult r = run_cli({"run", "--hw", "h100-sxm", "-w", wl.string(), "--json", "-q"}, dir.path);
  REQUIRE(r.rc == 0);
  const json j = json::parse(r.out);
  CHECK(j["workload"]["kernel"] == "flash_decoding");
  CHECK(j["workload"]["kv_block"] == 256);
  CHECK(j["workload"]["kv_splits"] == 3);
  CHECK(j["work"]["attention_units"] == 2 * 3);  // 2 packed GQA rows x 3 splits
  CHECK(j["work"]["work_units"] == 2 * 3 + 2);   // plus one combine unit per row
  CHECK(j["check"]["pass"] == true);
}

TEST_CASE("cli: check with external .npy inputs and an external output", "[cli]") {
  CliDir dir;
  const int64_t B = 1, H = 2, Hkv = 1, S = 50, d = 16;
  const fs::path wl = dir.path / "ext.yaml";
  write_text(wl, "name: ext\nbatch: 1\nq_heads: 2\nkv_heads: 1\nhead_dim: 16\nphase: prefill\nkv_len: 50\n"
                 "dtype: fp32\npattern: {name: causal}\n");
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto random_values = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = normal(gen);
    return v;
  };
  const std::vector<float> q = random_values(B * H * S * d), k = random_values(B * Hkv * S * d),
                           v = random_values(B * Hkv * S * d);
  attnsim::io::write_npy((dir.path / "q.npy").string(), attnsim::io::make_f4({B, H, S, d}, q));
  attnsim::io::write_npy((dir.path / "k.npy").string(), attnsim::io::make_f4({B, Hkv, S, d}, k));
  attnsim::io::write_npy((dir.path / "v.npy").string(), attnsim::io::make_f4({B, Hkv, S, d}, v));
  // Causal attention in float64: the output an external implementation should produce.
  std::vector<float> o(static_cast<size_t>(B * H * S * d));
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t i = 0; i < S; ++i) {
      std::vector<double> w(static_cast<size_t>(i + 1));
      double m = -1e300, l = 0;
      for (int64_t j = 0; j <= i; ++j) {
        double dot = 0;
        for (int64_t x = 0; x < d; ++x) dot += double(q[static_cast<size_t>((h * S + i) * d + x)]) * k[static_cast<size_t>(j * d + x)];
        w[static_cast<size_t>(j)] = dot / std::sqrt(double(d));
        m = std::max(m, w[static_cast<size_t>(j)]);
      }
      for (auto& x : w) l += (x = std::exp(x - m));
      for (int64_t x = 0; x < d; ++x) {
        double acc = 0;
        for (int64_t j = 0; j <= i; ++j) acc += w[static_cast<size_t>(j)] * v[static_cast<size_t>(j * d + x)];
        o[static_cast<size_t>((h * S + i) * d + x)] = static_cast<float>(acc / l);
      }
    }
  }
  attnsim::io::write_npy((dir.path / "o.npy").string(), attnsim::io::make_f4({B, H, S, d}, o));
  std::vector<float> off = o;
  for (size_t i = 0; i < off.size(); i += 7) off[i] += 0.05f;
  attnsim::io::write_npy((dir.path / "off.npy").string(), attnsim::io::make_f4({B, H, S, d}, off));

  auto check_args = [&](const std::string& expected) {
    return std::vector<std::string>{"check", "--hw", "h100-sxm", "-w", wl.string(), "--precision", "fp32",
                                    "--q", (dir.path / "q.npy").string(), "--k", (dir.path / "k.npy").string(),
                                    "--v", (dir.path / "v.npy").string(), "--expected", expected, "--json", "-q"};
  };
  const CliResult good = run_cli(check_args((dir.path / "o.npy").string()), dir.path);
  REQUIRE(good.rc == 0);
  const json g = json::parse(good.out);
  CHECK_FALSE(g.contains("check_bf16"));
  CHECK(g["check_fp32"]["pass"] == true);
  CHECK(g["check_fp32"]["rows_checked"] == H * S);
  CHECK(g["check_fp32"]["external_rel_error"].get<double>() < 1e-6);

  const CliResult bad = run_cli(check_args((dir.path / "off.npy").string()), dir.path);
  REQUIRE(bad.rc == 0);  // the simulator's kernel is right; the external output's error is reported
  const json b = json::parse(bad.out);
  CHECK(b["check_fp32"]["external_max_abs_error"].get<double>() == Approx(0.05).epsilon(1e-3));
  CHECK(b["check_fp32"]["external_rel_error"].get<double>() > 1e-3);

  // An input of the wrong shape, and a missing tensor, are one-line errors.
  const CliResult shape = run_cli({"check", "--hw", "h100-sxm", "-w", wl.string(), "--q", (dir.path / "k.npy").string(),
                                   "--k", (dir.path / "k.npy").string(), "--v", (dir.path / "v.npy").string(), "-q"},
                                  dir.path);
  CHECK(shape.rc == 2);
  CHECK(count_lines(shape.err) == 1);
  CHECK_THAT(shape.err, Contains("q has shape (1, 1, 50, 16) but the workload needs (1, 2, 50, 16)"));
  const CliResult two = run_cli({"check", "--hw", "h100-sxm", "-w", wl.string(), "--q", (dir.path / "q.npy").string(),
                                 "--k", (dir.path / "k.npy").string(), "-q"},
                                dir.path);
  CHECK(two.rc == 2);
  CHECK_THAT(two.err, Contains("external inputs need all three of --q, --k and --v"));
}

namespace {

// Every kind of bad input the catalogue must cover (tests/bad-inputs/README.md).
const std::set<std::string> kBadInputCategories = {
    "yaml", "unknown-key", "type", "missing-key", "size", "head-dim", "mask-shape", "mask-file",
    "name", "consistency", "check-memory", "budget", "file", "sweep"};
const std::set<std::string> kDirectives = {"expect", "category", "hw", "kernel", "workload", "args", "command", "input"};

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The command a case runs, from its directives (see tests/bad-inputs/README.md).
std::vector<std::string> bad_input_command(const fs::path& file, std::map<std::string, std::string> d,
                                           const fs::path& out) {
  if (d.count("command") && d["command"] == "plot") {  // plot INPUT [ARGS] -o OUT: no hardware or workload
    std::vector<std::string> args = {"plot", d.count("input") ? (kBadInputs / d["input"]).string() : file.string()};
    for (const std::string& a : split_words(d["args"])) args.push_back(a);
    args.insert(args.end(), {"-o", out.string()});
    return args;
  }
  if (d.count("command") && d["command"] == "sweep") {  // the case is the sweep file; outputs go to OUT/result.{csv,json,png}
    return {"sweep", file.string(), "-q", "-o", (out.parent_path() / out.stem()).string()};
  }
  std::string hw = d.count("hw") ? d["hw"] : "h100-sxm";
  std::string workload = file.string();
  const fs::path shipped = kRepo / "workloads" / "llama3-8b-prefill-8k-causal.yaml";
  if (hw == "THIS") {
    hw = file.string();
    workload = shipped.string();
  }
  if (d["kernel"] == "THIS") {
    d["kernel"] = file.string();
    workload = shipped.string();
  }
  if (d.count("workload")) workload = (kBadInputs / d["workload"]).string();
  std::vector<std::string> args = {d.count("command") ? d["command"] : "run", "--hw", hw, "-w", workload};
  if (!d["kernel"].empty()) args.insert(args.end(), {"--kernel", d["kernel"]});
  for (std::string a : split_words(d["args"])) {
    for (const char* fixtures : {"masks/", "traces/", "mixes/"}) {
      if (a.rfind(fixtures, 0) == 0) a = (kBadInputs / a).string();  // relative to this folder
    }
    args.push_back(a);
  }
  args.insert(args.end(), {"--json", "-q", "-o", out.string()});
  return args;
}

}  // namespace

TEST_CASE("cli: every case in tests/bad-inputs fails with one line and no output", "[cli]") {
  CliDir dir;
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(kBadInputs)) {
    if (e.path().extension() == ".yaml") cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 60);
  std::set<std::string> covered;
  for (const fs::path& file : cases) {
    INFO("case " << file.filename().string());
    std::ifstream in(file);
    std::string line;
    std::map<std::string, std::string> directive;
    bool first = true;
    while (std::getline(in, line) && line.rfind("# ", 0) == 0) {
      const size_t colon = line.find(": ");
      if (colon == std::string::npos) continue;
      const std::string key = line.substr(2, colon - 2);
      if (key.find(' ') != std::string::npos) continue;  // prose that happens to contain ": "
      if (first && key != "expect") break;
      first = false;
      INFO("directive '" << key << "'");
      CHECK(kDirectives.count(key) == 1);
      directive[key] = line.substr(colon + 2);
    }
    REQUIRE(directive.count("expect"));  // the first line must be '# expect: <fragment>'
    const std::string expect = directive["expect"];
    REQUIRE(!expect.empty());
    INFO("category '" << directive["category"] << "'");
    CHECK(kBadInputCategories.count(directive["category"]) == 1);
    covered.insert(directive["category"]);
    const fs::path out = dir.path / "result.json";
    const CliResult r = run_cli(bad_input_command(file, directive, out), dir.path);
    INFO("stderr: " << r.err);
    CHECK(r.rc == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, StartsWith("attnsim: error: ") && Contains(expect));
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".tmp"));
  }
  CHECK(covered == kBadInputCategories);
}

TEST_CASE("cli: usage errors exit 2 with one line", "[cli]") {
  CliDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "--hw", "h100-sxm"}, std::vector<std::string>{"run", "--bogus"},
        std::vector<std::string>{}, std::vector<std::string>{"check", "--hw", "h100-sxm", "-w", "x.yaml",
                                                             "--precision", "fp64"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined);
    const CliResult r = run_cli(args, dir.path);
    CHECK(r.rc == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, StartsWith("attnsim: "));
  }
  // An output path that cannot be written is a one-line error too.
  const fs::path wl = dir.path / "small.yaml";
  write_text(wl, kSmallWorkload);
  const CliResult o = run_cli({"run", "--hw", "h100-sxm", "-w", wl.string(), "-q", "--no-check", "-o",
                               (dir.path / "no-such-dir" / "r.json").string()},
                              dir.path);
  CHECK(o.rc == 2);
  CHECK(count_lines(o.err) == 1);
  CHECK_THAT(o.err, Contains("r.json: cannot write (does the directory exist?)"));
  const CliResult v = run_cli({"--version"}, dir.path);
  CHECK(v.rc == 0);
  CHECK_THAT(v.out, Contains("attnsim"));
}

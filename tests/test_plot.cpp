// `attnsim plot`: the gnuplot scripts carry exactly the result's numbers (traffic series,
// mask cells, roofline peak derived from the config, one bar per timeline record, sweep
// curves from CSV and JSON), PNGs render deterministically, and a missing gnuplot is one
// clear line.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "tests/cli_helpers.h"

using namespace attnsim_test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// The rows of datablock $name, split into words.
std::vector<std::vector<std::string>> datablock(const std::string& script, const std::string& name) {
  const std::string open = "$" + name + " << EOD\n";
  const size_t b = script.find(open);
  REQUIRE(b != std::string::npos);
  const size_t e = script.find("EOD\n", b + open.size());
  std::istringstream in(script.substr(b + open.size(), e - b - open.size()));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream w(line);
    rows.emplace_back();
    for (std::string x; w >> x;) rows.back().push_back(x);
  }
  return rows;
}

struct Fixture {
  CliDir dir;
  json result;
  Fixture(const std::string& hw = "h100-sxm") {
    write_text(dir.path / "w.yaml", kSmallCausalWorkload);
    const CliResult r = run_cli({"run", "--hw", hw, "-w", dir.file("w.yaml"), "--json", "-q", "--no-check", "--detail", "-o",
                                 dir.file("r.json")},
                                dir.path);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    result = json::parse(slurp(dir.path / "r.json"));
  }
  std::string script(const std::string& kind, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"plot", dir.file("r.json"), "--kind", kind, "--script", dir.file(kind + ".gp")};
    a.insert(a.end(), extra.begin(), extra.end());
    const CliResult r = run_cli(a, dir.path);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    return slurp(dir.path / (kind + ".gp"));
  }
};

// Width and height from a PNG's IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
  REQUIRE(png.size() > 24);
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  auto be32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24 |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8 | static_cast<unsigned char>(png[at + 3]);
  };
  return {be32(16), be32(20)};
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("plot: the traffic script carries every series value and each level's peak", "[plot]") {
  Fixture f;
  const std::string s = f.script("traffic");
  const auto rows = datablock(s, "traffic");
  const json& series = f.result["series"];
  const size_t n = series["hbm_bytes_per_s"].size();
  REQUIRE(rows.size() == n + 1);  // one row per step and the closing one
  const double step_us = series["step_s"].get<double>() * 1e6;
  const std::vector<std::string> levels = {"smem", "l2", "hbm"};
  for (size_t i = 0; i < n; ++i) {
    REQUIRE(rows[i].size() == 4);
    CHECK(std::stod(rows[i][0]) == Approx(i * step_us).epsilon(1e-5));
    for (size_t k = 0; k < 3; ++k) {
      CHECK(std::stod(rows[i][k + 1]) == Approx(series[levels[k] + "_bytes_per_s"][i].get<double>() / 1e9).epsilon(1e-5));
    }
  }
  // Peak lines at the configured bandwidth: H100 HBM3 3.35 TB/s x 0.92 efficiency (hw-configs/h100-sxm.yaml).
  const double hbm_peak_gbs = f.result["traffic"]["hbm"]["configured_bytes_per_s"].get<double>() / 1e9;
  CHECK_THAT(s, Contains(std::to_string(static_cast<int>(hbm_peak_gbs))));
  CHECK_THAT(s, Contains("title \"hbm peak\""));
}

TEST_CASE("plot: the roofline's peak is the config's matrix peak, one point per level", "[plot]") {
  Fixture f;
  const std::string s = f.script("roofline");
  // H100 SXM dense bf16 wgmma: 989.4 TFLOP/s, derived back from the result's utilisation.
  CHECK_THAT(s, Contains("peak = 989.4"));
  const auto pts = datablock(s, "points");
  REQUIRE(pts.size() == 3);
  const double executed = f.result["timing"]["executed_tflops"].get<double>() * f.result["timing"]["latency_s"].get<double>() /
                          f.result["timing"]["kernel_s"].get<double>();
  const json& hbm = f.result["traffic"]["hbm"];
  const double flops = f.result["timing"]["executed_tflops"].get<double>() * 1e12 * f.result["timing"]["latency_s"].get<double>();
  CHECK(std::stod(pts[2][0]) == Approx(flops / (hbm["read_bytes"].get<double>() + hbm["write_bytes"].get<double>())).epsilon(1e-5));
  CHECK(std::stod(pts[2][1]) == Approx(executed).epsilon(1e-5));
}

TEST_CASE("plot: mask cells are coloured skipped / partial / full as the mask says", "[plot]") {
  Fixture f;
  const auto cells = datablock(f.script("mask"), "mask");
  REQUIRE(cells.size() == 32 * 32);  // 4096 tokens in 128-token blocks, one cell per block
  auto rgb = [&](int q, int k) {
    const auto& c = cells[static_cast<size_t>(q * 32 + k)];
    REQUIRE(std::stoi(c[0]) == k);
    REQUIRE(std::stoi(c[1]) == q);
    return c[2] + " " + c[3] + " " + c[4];
  };
  CHECK(rgb(5, 6) == "232 232 232");  // above the diagonal: skipped
  CHECK(rgb(5, 5) == "240 130 20");   // diagonal: partial (element mask)
  CHECK(rgb(5, 4) == "31 78 161");    // below: full
}

TEST_CASE("plot: the timeline has one bar per CTA, inside the kernel time", "[plot]") {
  Fixture f;
  const auto bars = datablock(f.script("timeline"), "bars");
  REQUIRE(bars.size() == f.result["timing"]["ctas"].get<size_t>());
  const double kernel_us = f.result["timing"]["kernel_s"].get<double>() * 1e6;
  for (const auto& b : bars) {
    const double mid = std::stod(b[0]), half = std::stod(b[2]);
    CHECK(mid - half >= -1e-6);
    CHECK(mid + half <= kernel_us * (1 + 1e-6));
    CHECK(std::stod(b[1]) >= -0.5);
    CHECK(std::stod(b[1]) < 132);
  }
}

TEST_CASE("plot: sweep curves from CSV and from JSON points are the same", "[plot]") {
  CliDir dir;
  write_text(dir.path / "p.csv",
             "# a comment line\nkv_len,pattern,latency_us\n2048,causal,30\n1024,causal,10\n1024,\"dense, full\",18\n"
             "2048,\"dense, full\",60\n");
  write_text(dir.path / "p.json",
             "{\"points\": [{\"kv_len\": 2048, \"pattern\": \"causal\", \"latency_us\": 30},"
             "{\"kv_len\": 1024, \"pattern\": \"causal\", \"latency_us\": 10},"
             "{\"kv_len\": 1024, \"pattern\": \"dense, full\", \"latency_us\": 18},"
             "{\"kv_len\": 2048, \"pattern\": \"dense, full\", \"latency_us\": 60}]}");
  // The layout of a sweep's JSON output: metadata beside "rows".
  write_text(dir.path / "rows.json",
             "{\"sweep\": \"s\", \"parameters\": [\"kv_len\"], \"rows\": ["
             "{\"kv_len\": 2048, \"pattern\": \"causal\", \"latency_us\": 30, \"extra\": {\"a\": 1}},"
             "{\"kv_len\": 1024, \"pattern\": \"causal\", \"latency_us\": 10},"
             "{\"kv_len\": 1024, \"pattern\": \"dense, full\", \"latency_us\": 18},"
             "{\"kv_len\": 2048, \"pattern\": \"dense, full\", \"latency_us\": 60}]}");
  std::string scripts[3];
  const char* inputs[3] = {"p.csv", "p.json", "rows.json"};
  for (int i = 0; i < 3; ++i) {
    const std::string in = dir.file(inputs[i]), gp = dir.file("s" + std::to_string(i) + ".gp");
    const CliResult r = run_cli({"plot", in, "--kind", "sweep", "--x", "kv_len", "--y", "latency_us", "--series", "pattern",
                                 "--log-x", "--script", gp},
                                dir.path);
    INFO(r.err);
    REQUIRE(r.rc == 0);
    scripts[i] = slurp(gp);
  }
  CHECK(scripts[0] == scripts[1]);
  CHECK(scripts[0] == scripts[2]);
  const auto causal = datablock(scripts[0], "curve0"), dense = datablock(scripts[0], "curve1");
  REQUIRE(causal.size() == 2);
  CHECK(causal[0] == std::vector<std::string>{"1024", "10"});  // sorted by x
  CHECK(causal[1] == std::vector<std::string>{"2048", "30"});
  CHECK(dense[1] == std::vector<std::string>{"2048", "60"});
  CHECK_THAT(scripts[0], Contains("title \"pattern = dense, full\"") && Contains("set logscale x"));
}

TEST_CASE("plot: PNGs render at the asked size, byte-identical across runs", "[plot]") {
  if (!have_gnuplot()) {
    WARN("gnuplot not installed: PNG rendering untested ('make deps-plot' installs it)");
    return;
  }
  Fixture f;
  for (const std::string kind : {"traffic", "roofline", "mask", "timeline"}) {
    INFO(kind);
    const std::string a = f.dir.file(kind + "-a.png"), b = f.dir.file(kind + "-b.png");
    for (const std::string& out : {a, b}) {
      const CliResult r = run_cli({"plot", f.dir.file("r.json"), "--kind", kind, "--size", "640x480", "-o", out}, f.dir.path);
      INFO(r.err);
      REQUIRE(r.rc == 0);
      CHECK(r.err.empty());
    }
    const std::string png = slurp(a);
    CHECK(png_size(png) == std::make_pair(640u, 480u));
    CHECK(png.size() > 5000);  // a chart, not a blank page
    CHECK(png == slurp(b));
    CHECK_FALSE(fs::exists(a + ".tmp"));
  }
}

TEST_CASE("plot: without gnuplot the command fails with one line, --script still works", "[plot]") {
  Fixture f;
  ::setenv("ATTNSIM_GNUPLOT", "/nonexistent/gnuplot", 1);
  const CliResult r = run_cli({"plot", f.dir.file("r.json"), "-o", f.dir.file("t.png")}, f.dir.path);
  const CliResult s = run_cli({"plot", f.dir.file("r.json"), "--script", f.dir.file("t.gp")}, f.dir.path);
  ::unsetenv("ATTNSIM_GNUPLOT");
  CHECK(r.rc == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Contains("attnsim: error: plot needs gnuplot") && Contains("make deps-plot"));
  CHECK_FALSE(fs::exists(f.dir.path / "t.png"));
  CHECK(s.rc == 0);
  CHECK_THAT(slurp(f.dir.path / "t.gp"), Contains("set output \"out.png\""));  // without -o the script names out.png
}

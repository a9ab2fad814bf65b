// Tests for the configuration layer: unit-bearing quantities (sim/core/units),
// the schema-checked MapReader (sim/config), the shipped hardware configs
// (sim/hw/hw_spec + the gpu/tpu parameter plug-ins), the rule that every number in
// a hardware config cites a source tag, and one mutation of a real config per class
// of bad input, each checked for a message that names the file, the key and the reason.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpu/gpu_params.h"
#include "models/tpu/tpu_params.h"
#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/core/paths.h"
#include "sim/core/units.h"
#include "sim/hw/hw_spec.h"

using namespace attnsim;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const fs::path kRepo = fs::path(ATTNSIM_TEST_DIR).parent_path();
const fs::path kHwDir = kRepo / "hw-configs";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

MapReader reader(const std::string& yaml) { return MapReader(load_yaml_string(yaml, "t.yaml"), "t.yaml"); }

std::vector<fs::path> hw_config_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kHwDir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

size_t indent_of(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// Offset of the YAML comment in a line ('#' at the start or after whitespace,
// outside quotes), or npos.
size_t comment_start(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return i;
  }
  return std::string::npos;
}

// The source-discipline rule as a line scanner. Returns one message per violation:
// every line whose value (after the key) is a number, or a flow list/map holding
// digits, must carry a comment starting with [TAG], and every [TAG] in the comment
// must be a key of the file's top-level `sources:` map.
std::vector<std::string> uncited_numbers(const std::string& text, const std::string& file) {
  std::vector<std::string> lines;
  {
    std::stringstream ss(text);
    std::string l;
    while (std::getline(ss, l)) lines.push_back(l);
  }
  // Pass 1: the tags of the top-level sources map.
  std::set<std::string> tags;
  bool in_sources = false;
  for (const std::string& l : lines) {
    const std::string code = trim(l.substr(0, std::min(l.size(), comment_start(l))));
    if (code.empty()) continue;
    if (indent_of(l) == 0) {
      in_sources = code == "sources:";
      continue;
    }
    if (in_sources) {
      const size_t colon = code.find(':');
      if (colon != std::string::npos) tags.insert(trim(code.substr(0, colon)));
    }
  }
  std::vector<std::string> bad;
  if (tags.empty()) bad.push_back(file + ": no top-level `sources:` map of tags");
  static const std::regex number_start(R"(^[-+]?\.?[0-9])");
  static const std::regex lead_tag(R"(^#\s*\[([A-Za-z0-9_]+)\])");
  static const std::regex any_tag(R"(\[([A-Za-z][A-Za-z0-9_]*)\])");
  static const std::set<std::string> free_text = {"name", "description", "unit_name"};
  in_sources = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& l = lines[n];
    const size_t cpos = comment_start(l);
    std::string code = trim(l.substr(0, std::min(l.size(), cpos)));
    const std::string comment = cpos == std::string::npos ? "" : trim(l.substr(cpos));
    if (code.empty()) continue;
    if (indent_of(l) == 0) in_sources = code == "sources:";
    if (in_sources) continue;
    if (code.rfind("- ", 0) == 0) code = trim(code.substr(2));
    std::string key, value = code;
    const size_t colon = code.find(": ");
    if (colon != std::string::npos) {
      key = trim(code.substr(0, colon));
      value = trim(code.substr(colon + 2));
    } else if (!code.empty() && code.back() == ':') {
      continue;  // opens a nested map or list
    }
    if (free_text.count(key)) continue;
    const bool flow = !value.empty() && (value[0] == '[' || value[0] == '{');
    const bool numeric = std::regex_search(value, number_start) ||
                         (flow && value.find_first_of("0123456789") != std::string::npos);
    if (!numeric) continue;
    const std::string where = file + ":" + std::to_string(n + 1) + " '" + trim(l) + "'";
    std::smatch m;
    if (!std::regex_search(comment, m, lead_tag)) {
      bad.push_back(where + ": number without a '# [TAG]' citation");
      continue;
    }
    for (std::sregex_iterator it(comment.begin(), comment.end(), any_tag), end; it != end; ++it) {
      const std::string tag = (*it)[1];
      if (!tags.count(tag)) bad.push_back(where + ": tag [" + tag + "] is not a key of `sources:`");
    }
  }
  return bad;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

// A fresh copy of a shipped config (YAML nodes are references: never share one).
YAML::Node fresh(const std::string& name) { return load_yaml_file((kHwDir / (name + ".yaml")).string()); }

// The H100 config text with its clock line repeated (a copy-paste slip).
YAML::Node fresh_copy_with_duplicate_clock() {
  std::string text = read_text(kHwDir / "h100-sxm.yaml");
  text += "clock: 1980MHz   # [HWP]\n";
  return load_yaml_string(text, "dup.yaml");
}

std::string parse_error(const YAML::Node& root, const std::string& name) {
  return error_of([&] { parse_hw_spec(root, name + ".yaml"); });
}

}  // namespace

// ---------------------------------------------------------------- units

TEST_CASE("units: every unit of every kind parses to SI base units", "[config]") {
  struct Case {
    const char* text;
    UnitKind kind;
    double want;
  };
  const Case cases[] = {
      {"12B", UnitKind::bytes, 12},
      {"2KB", UnitKind::bytes, 2e3},
      {"50MB", UnitKind::bytes, 50e6},
      {"80GB", UnitKind::bytes, 80e9},
      {"1TB", UnitKind::bytes, 1e12},
      {"228KiB", UnitKind::bytes, 228.0 * 1024},
      {"50MiB", UnitKind::bytes, 50.0 * 1048576},
      {"1.5GiB", UnitKind::bytes, 1.5 * 1073741824.0},
      {"2TiB", UnitKind::bytes, 2.0 * 1099511627776.0},
      {"7B/s", UnitKind::bandwidth, 7},
      {"3KB/s", UnitKind::bandwidth, 3e3},
      {"4MB/s", UnitKind::bandwidth, 4e6},
      {"900GB/s", UnitKind::bandwidth, 900e9},
      {"3.35TB/s", UnitKind::bandwidth, 3.35e12},
      {"1KiB/s", UnitKind::bandwidth, 1024},
      {"1MiB/s", UnitKind::bandwidth, 1048576},
      {"2GiB/s", UnitKind::bandwidth, 2.0 * 1073741824.0},
      {"60Hz", UnitKind::frequency, 60},
      {"100kHz", UnitKind::frequency, 1e5},
      {"1830MHz", UnitKind::frequency, 1.83e9},
      {"1.83GHz", UnitKind::frequency, 1.83e9},
      {"2s", UnitKind::time, 2},
      {"3ms", UnitKind::time, 3e-3},
      {"4us", UnitKind::time, 4e-6},
      {"700ns", UnitKind::time, 700e-9},
      {"5ps", UnitKind::time, 5e-12},
      {"1.5h", UnitKind::time, 5400},
      {"2min", UnitKind::time, 120},
      {"700W", UnitKind::power, 700},
      {"1.2kW", UnitKind::power, 1200},
      {"250mW", UnitKind::power, 0.25},
      {"  3.35 TB/s ", UnitKind::bandwidth, 3.35e12},  // spaces around and before the unit
      {"1e3MHz", UnitKind::frequency, 1e9},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(parse_quantity(c.text, c.kind) == Approx(c.want).epsilon(1e-12));
  }
}

TEST_CASE("units: wrong unit class, missing unit and garbage are refused", "[config]") {
  // A bandwidth where a frequency belongs: the message names the unit and the expected kind.
  const std::string wrong = error_of([] { parse_quantity("3.35TB/s", UnitKind::frequency); });
  CHECK_THAT(wrong, Contains("'3.35TB/s'") && Contains("unit 'TB/s'") && Contains("a frequency is expected") &&
                        Contains("1830MHz"));
  CHECK_THAT(error_of([] { parse_quantity("80GB", UnitKind::bandwidth); }), Contains("a bandwidth is expected"));
  CHECK_THAT(error_of([] { parse_quantity("900GB/s", UnitKind::bytes); }), Contains("a size is expected"));
  CHECK_THAT(error_of([] { parse_quantity("4us", UnitKind::power); }), Contains("a power is expected"));
  CHECK_THAT(error_of([] { parse_quantity("700W", UnitKind::time); }), Contains("a time is expected"));
  CHECK_THAT(error_of([] { parse_quantity("5MHz", UnitKind::time); }), Contains("unit 'MHz'"));
  // Units are case-sensitive: 'mhz' is not MHz, 'MW' is not mW.
  CHECK_THROWS_AS(parse_quantity("1830mhz", UnitKind::frequency), Error);
  CHECK_THROWS_AS(parse_quantity("5MW", UnitKind::power), Error);

  CHECK_THAT(error_of([] { parse_quantity("1830", UnitKind::frequency); }),
             Contains("has no unit") && Contains("a frequency needs one"));
  CHECK_THAT(error_of([] { parse_quantity("80", UnitKind::bytes); }), Contains("has no unit"));

  for (const char* garbage : {"fast", "", "MHz", "GHz1830", "--1MHz", "one GHz"}) {
    INFO(garbage);
    CHECK_THAT(error_of([&] { parse_quantity(garbage, UnitKind::frequency); }),
               Contains("is not a frequency") && Contains("write it like"));
  }
  CHECK_THAT(error_of([] { parse_quantity("infGHz", UnitKind::frequency); }), Contains("not a finite number"));
  CHECK_THAT(error_of([] { parse_quantity("nanW", UnitKind::power); }), Contains("not a finite number"));
  CHECK_THAT(error_of([] { parse_quantity("1e999GHz", UnitKind::frequency); }), Contains("is not a frequency"));
  CHECK_THAT(error_of([] { parse_quantity("3 GHz extra", UnitKind::frequency); }), Contains("unit 'GHz extra'"));
}

TEST_CASE("units: human-readable rendering", "[config]") {
  CHECK(format_bytes(80e9) == "80 GB");
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bandwidth(3.35e12) == "3.35 TB/s");
  CHECK(format_time(2.5) == "2.5 s");
  CHECK(format_time(1.5e-3) == "1.5 ms");
  CHECK(format_time(4e-6) == "4 us");
  CHECK(format_time(59) == "59 s");
  CHECK(format_time(90) == "1.5 min");
  CHECK(format_time(5400) == "1.5 h");
}

// ---------------------------------------------------------------- MapReader

TEST_CASE("MapReader: typed reads and defaults", "[config]") {
  MapReader r = reader(
      "units: 132\nratio: 0.9\nflag: false\nname: SM\nkind: cache\nsizes: [512, 1024]\n"
      "clock: 1830MHz\nsub: {a: 1}\nnote: free text\n");
  CHECK(r.integer("units", 1, 1000) == 132);
  CHECK(r.number("ratio", 0, 1) == Approx(0.9));
  CHECK(r.boolean("flag") == false);
  CHECK(r.string("name") == "SM");
  CHECK(r.choice("kind", {"scratchpad", "cache", "dram"}) == "cache");
  CHECK(r.integer_list("sizes", 1, 4096) == std::vector<int64_t>{512, 1024});
  CHECK(r.quantity("clock", UnitKind::frequency) == Approx(1.83e9));
  MapReader sub = r.map("sub");
  CHECK(sub.integer("a", 0, 9) == 1);
  sub.finish();
  r.allow("note");
  // Absent keys with a fallback take it; has() reports presence.
  CHECK(r.integer("absent", 0, 10, 7) == 7);
  CHECK(r.string("absent_s", std::string("x")) == "x");
  CHECK_FALSE(r.has("absent"));
  CHECK(r.has("units"));
  CHECK_NOTHROW(r.finish());
  // A null document is an empty mapping; a scalar document is refused.
  CHECK_NOTHROW(MapReader(load_yaml_string("", "e.yaml"), "e.yaml").finish());
  CHECK_THAT(error_of([] { MapReader(load_yaml_string("just text", "s.yaml"), "s.yaml"); }),
             Contains("s.yaml") && Contains("expected a mapping"));
}

TEST_CASE("MapReader: unknown keys are rejected with the nearest valid key", "[config]") {
  MapReader r = reader("units: 3\nunit_nmae: SM\n");
  r.integer("units", 1, 10);
  r.string("unit_name", std::string("SM"));
  const std::string msg = error_of([&] { r.finish(); });
  CHECK_THAT(msg, Contains("t.yaml") && Contains("unknown key 'unit_nmae'") &&
                      Contains("did you mean 'unit_name'?") && Contains("valid keys here: unit_name, units"));
  // Nothing close: no suggestion, but the valid keys are still listed.
  MapReader far = reader("units: 3\nzzzzzzzzzzzz: 1\n");
  far.integer("units", 1, 10);
  const std::string far_msg = error_of([&] { far.finish(); });
  CHECK_THAT(far_msg, Contains("unknown key 'zzzzzzzzzzzz'") && Contains("valid keys here: units"));
  CHECK_THAT(far_msg, !Contains("did you mean"));
  // Suggestions also cover choices.
  MapReader c = reader("kind: cahce\n");
  CHECK_THAT(error_of([&] { c.choice("kind", {"scratchpad", "cache", "dram"}); }),
             Contains("kind: unknown value 'cahce'") && Contains("did you mean 'cache'?") &&
                 Contains("valid: scratchpad, cache, dram"));
}

TEST_CASE("MapReader: a key given twice is refused, not silently resolved", "[config]") {
  CHECK_THAT(error_of([] { reader("units: 1\nname: a\nunits: 4096\n"); }),
             Contains("t.yaml: key 'units' appears twice"));
  CHECK_THAT(error_of([] { reader("sub: {a: 1, a: 2}\n").map("sub"); }), Contains("t.yaml: sub: key 'a' appears twice"));
  CHECK_THAT(error_of([] { reader("? [a, b]\n: 1\n"); }), Contains("t.yaml: keys must be plain names"));
  YAML::Node y = fresh_copy_with_duplicate_clock();
  CHECK_THAT(error_of([&] { parse_hw_spec(y, "dup.yaml"); }), Contains("dup.yaml: key 'clock' appears twice"));
}

TEST_CASE("MapReader: nearest_name", "[config]") {
  CHECK(nearest_name("clok", {"clock", "compute", "tdp"}) == "clock");
  CHECK(nearest_name("CLOCK", {"clock", "tdp"}) == "clock");  // case-insensitive
  CHECK(nearest_name("bandwith", {"capacity", "bandwidth", "latency_cycles"}) == "bandwidth");
  CHECK(nearest_name("qqqqqqqq", {"clock", "tdp"}).empty());
  CHECK(nearest_name("x", {}).empty());
  CHECK(nearest_name("cl\xc3\xb6" "ck", {"clock", "tdp"}) == "clock");  // non-ASCII bytes are fine
}

TEST_CASE("MapReader: missing keys, wrong types and out-of-range values", "[config]") {
  SECTION("missing required keys name the key and what it should be") {
    MapReader r = reader("other: 1\n");
    CHECK_THAT(error_of([&] { r.integer("units", 1, 10); }),
               Contains("t.yaml: units: missing required key (an integer)"));
    CHECK_THAT(error_of([&] { r.quantity("clock", UnitKind::frequency); }),
               Contains("clock: missing required key (a frequency)"));
    CHECK_THAT(error_of([&] { r.string("name"); }), Contains("name: missing required key"));
    CHECK_THAT(error_of([&] { r.map_list("memory"); }), Contains("memory: missing required key"));
    // An explicit null counts as missing.
    MapReader n = reader("units:\n");
    CHECK_THAT(error_of([&] { n.integer("units", 1, 10); }), Contains("missing required key"));
  }
  SECTION("a string where an integer belongs, a list where a scalar belongs") {
    MapReader r = reader(
        "a: many\nb: [1, 2]\nc: 3.5\nd: {x: 1}\ne: [1GHz]\nf: [a]\ng: yes\nh: 12abc\ni: 0x10\nj: [1, x]\nk: []\n"
        "l: 5\nm: {x: 1}\n");
    CHECK_THAT(error_of([&] { r.integer("a", 0, 10); }), Contains("a: expected an integer, got 'many'"));
    CHECK_THAT(error_of([&] { r.integer("b", 0, 10); }), Contains("b: expected an integer, got 'a list or map'"));
    CHECK_THAT(error_of([&] { r.integer("c", 0, 10); }), Contains("c: expected an integer, got '3.5'"));
    CHECK_THAT(error_of([&] { r.integer("h", 0, 100); }), Contains("expected an integer, got '12abc'"));
    CHECK_THAT(error_of([&] { r.integer("i", 0, 100); }), Contains("expected an integer, got '0x10'"));
    CHECK_THAT(error_of([&] { r.number("d", 0, 10); }), Contains("d: expected a plain number, got 'a list or map'"));
    CHECK_THAT(error_of([&] { r.number("a", 0, 10); }), Contains("expected a plain number, got 'many'"));
    CHECK_THAT(error_of([&] { r.quantity("e", UnitKind::frequency); }),
               Contains("e: expected a frequency like '1830MHz'"));
    CHECK_THAT(error_of([&] { r.string("f"); }), Contains("f: expected a string"));
    CHECK_THAT(error_of([&] { r.string("d"); }), Contains("d: expected a string"));
    CHECK_THAT(error_of([&] { r.boolean("g"); }), Contains("g: expected true or false"));
    CHECK_THAT(error_of([&] { r.integer_list("j", 0, 10); }), Contains("j: expected an integer, got 'x'"));
    CHECK_THAT(error_of([&] { r.integer_list("k", 0, 10); }), Contains("k: expected a non-empty list of integers"));
    CHECK_THAT(error_of([&] { r.integer_list("l", 0, 10); }), Contains("l: expected a non-empty list of integers"));
    CHECK_THAT(error_of([&] { r.map("a"); }), Contains("a: expected a mapping"));
    CHECK_THAT(error_of([&] { r.map_list("m"); }), Contains("m: expected a non-empty list of mappings"));
  }
  SECTION("out of range, negative and zero") {
    MapReader r = reader("a: 0\nb: 2000\nc: 1.5\nd: -5MiB\ne: 0MHz\nf: -3\ng: [1, -1]\nh: 1e400\n");
    CHECK_THAT(error_of([&] { r.integer("a", 1, 100); }), Contains("a: value 0 is out of range [1, 100]"));
    CHECK_THAT(error_of([&] { r.integer("b", 1, 100); }), Contains("b: value 2000 is out of range [1, 100]"));
    CHECK_THAT(error_of([&] { r.number("c", 0.05, 1.0); }), Contains("c: value 1.5 is out of range"));
    CHECK_THAT(error_of([&] { r.quantity("d", UnitKind::bytes); }), Contains("d: must be positive, got '-5MiB'"));
    CHECK_THAT(error_of([&] { r.quantity("e", UnitKind::frequency); }), Contains("e: must be positive, got '0MHz'"));
    CHECK_THAT(error_of([&] { r.integer("f", 0, 10); }), Contains("f: value -3 is out of range [0, 10]"));
    CHECK_THAT(error_of([&] { r.integer_list("g", 0, 10); }), Contains("g: value -1 is out of range"));
    CHECK_THAT(error_of([&] { r.number("h", 0, 10); }), Contains("h: expected a plain number"));
  }
}

TEST_CASE("YAML loading: malformed text and missing files", "[config]") {
  CHECK_THAT(error_of([] { load_yaml_string("a: [1, 2\nb: 3\n", "bad.yaml"); }),
             Contains("bad.yaml:") && Contains("malformed YAML"));
  CHECK_THAT(error_of([] { load_yaml_file("/nonexistent/dir/x.yaml"); }),
             Contains("/nonexistent/dir/x.yaml: no such file"));
  CHECK_THAT(error_of([] { load_yaml_file(ATTNSIM_TEST_DIR); }), Contains("no such file"));  // a directory
}

// ---------------------------------------------------------------- shipped hardware configs

TEST_CASE("every shipped hardware config loads", "[config]") {
  const auto files = hw_config_files();
  REQUIRE(files.size() >= 6);  // A100, H100, H200, B200, TPU v5e, v5p at least
  CHECK(list_hw_configs().size() == files.size());
  for (const fs::path& f : files) {
    INFO(f.string());
    HwSpec hw;
    REQUIRE_NOTHROW(hw = load_hw_spec(f.string()));
    CHECK(!hw.name.empty());
    CHECK(hw.clock_hz >= 1e8);
    CHECK(hw.units >= 1);
    CHECK(hw.dram_capacity_bytes() > 1e9);
    CHECK(hw.find_level(MemoryKind::scratchpad) != nullptr);
    CHECK(!hw.matrix_paths.empty());
    CHECK(hw.tdp_w > 0);
    // The path found by name is the same file.
    CHECK(fs::equivalent(resolve_hw_path(f.stem().string()), f));
    if (hw.arch == "gpu") {
      const GpuParams& p = hw.params<GpuParams>();
      CHECK(p.max_smem_per_cta_bytes <= hw.find_level(MemoryKind::scratchpad)->capacity_bytes);
      CHECK_THROWS_AS(hw.params<TpuParams>(), Error);
    } else {
      REQUIRE(hw.arch == "tpu");
      CHECK(hw.params<TpuParams>().cores_per_chip == hw.units);
    }
  }
}

TEST_CASE("H100 config: parsed values match the datasheet arithmetic", "[config]") {
  const HwSpec hw = load_hw_spec(resolve_hw_path("h100-sxm"));
  CHECK(hw.units == 132);
  CHECK(hw.clock_hz == Approx(1.83e9));
  CHECK(hw.peak_flops("wgmma", Dtype::bf16) == Approx(989e12).epsilon(0.002));  // 989 TF dense
  CHECK(hw.dram().bandwidth_bytes_per_s == Approx(3.35e12));
  CHECK(hw.dram_capacity_bytes() == Approx(80e9));
  CHECK(hw.level("smem").capacity_bytes == Approx(228.0 * 1024));
  CHECK(hw.level("smem").per_unit);
  CHECK_THAT(error_of([&] { hw.peak_flops("tcgen05", Dtype::bf16); }),
             Contains("no matrix path 'tcgen05'") && Contains("wgmma"));
  CHECK_THAT(error_of([&] { hw.peak_flops("mma_sync", Dtype::fp8); }), Contains("no rate for dtype fp8"));
  CHECK_THAT(error_of([&] { hw.level("l3"); }), Contains("no memory level 'l3'"));
  CHECK_THAT(error_of([] { resolve_hw_path("h100-sxn"); }),
             Contains("unknown hardware 'h100-sxn'") && Contains("did you mean 'h100-sxm'?") &&
                 Contains("tpu-v5e"));
}

TEST_CASE("GPU configs carry the SM count and L2 size the measured GPUs' drivers report", "[config]") {
  // Every harness run records cudaDeviceProp (validation/<gpu>/data/env.json). The H200's config
  // once copied the H100's 50 MB L2 ("same die") where its driver reports 60 MiB, and every long
  // prefill's DRAM bytes on it were off by up to 184%: a config must agree with the GPU it models.
  int checked = 0;
  for (const char* gpu : {"h100", "h200"}) {
    const fs::path env_path = fs::path(data_root()) / "validation" / gpu / "data" / "env.json";
    INFO(env_path.string());
    std::ifstream in(env_path);
    REQUIRE(in);
    const nlohmann::json env = nlohmann::json::parse(in)["runs"][0]["environment"];
    const HwSpec hw = load_hw_spec(resolve_hw_path(std::string(gpu) + "-sxm"));
    const GpuParams& p = hw.params<GpuParams>();
    const double l2_bytes = env["l2_cache_bytes"].get<double>();
    CHECK(hw.units == env["sm_count"].get<int>());
    CHECK(hw.level("l2").capacity_bytes == l2_bytes);
    CHECK(p.l2_partitions * p.l2_partition.capacity_bytes == l2_bytes);
    ++checked;
  }
  CHECK(checked == 2);
}

// ---------------------------------------------------------------- source discipline

TEST_CASE("every number in a hardware config cites a tag from its sources map", "[config]") {
  for (const fs::path& f : hw_config_files()) {
    const std::vector<std::string> bad = uncited_numbers(read_text(f), f.filename().string());
    INFO(join(bad));
    CHECK(bad.empty());
  }
}

TEST_CASE("the source-tag scanner catches uncited and mis-cited numbers", "[config]") {
  const std::string good =
      "name: X-100\n"
      "sources:\n"
      "  AB: a paper, p. 3 #12\n"
      "  EST: estimate\n"
      "clock: 1GHz   # [AB] quoted\n"
      "compute:\n"
      "  units: 4    # [EST] (U) guess [AB]\n"
      "  unit_name: SM\n"
      "memory:\n"
      "  - name: hbm\n"
      "    capacity: 1GB  # [AB]\n";
  CHECK(uncited_numbers(good, "good.yaml").empty());
  // Each mutation adds exactly one problem.
  const std::vector<std::pair<std::string, std::string>> mutations = {
      {"  latency_cycles: 30\n", "without a '# [TAG]' citation"},
      {"  latency_cycles: 30   # measured\n", "without a '# [TAG]' citation"},
      {"  latency_cycles: 30   # (U) [AB]\n", "without a '# [TAG]' citation"},  // the tag must lead
      {"  latency_cycles: 30   # [XY]\n", "tag [XY] is not a key"},
      {"  latency_cycles: 30   # [AB] also [ZZ]\n", "tag [ZZ] is not a key"},
      {"  bandwidth: .5TB/s\n", "without a '# [TAG]'"},
      {"  sizes: [1, 2]\n", "without a '# [TAG]'"},
      {"  - 42\n", "without a '# [TAG]'"},
      {"  ratio: -0.5\n", "without a '# [TAG]'"},
  };
  for (const auto& [line, why] : mutations) {
    INFO(line);
    const std::vector<std::string> bad = uncited_numbers(good + line, "m.yaml");
    REQUIRE(bad.size() == 1);
    CHECK_THAT(bad[0], Contains(why) && Contains("m.yaml:12"));
  }
  CHECK_THAT(join(uncited_numbers("clock: 1GHz # [AB]\n", "n.yaml")), Contains("no top-level `sources:`"));
}

// ---------------------------------------------------------------- mutations of real configs

TEST_CASE("hardware config mutations: each bad input names file, key and reason", "[config]") {
  const std::string f = "h100-sxm";
  SECTION("the unmodified config parses") { CHECK_NOTHROW(parse_hw_spec(fresh(f), f + ".yaml")); }
  SECTION("unknown top-level key, with a suggestion") {
    YAML::Node y = fresh(f);
    y["clok"] = "1GHz";
    CHECK_THAT(parse_error(y, f),
               Contains("h100-sxm.yaml") && Contains("unknown key 'clok'") && Contains("did you mean 'clock'?"));
  }
  SECTION("unknown nested key, with a suggestion") {
    YAML::Node y = fresh(f);
    y["memory"][2]["bandwith"] = "1TB/s";
    CHECK_THAT(parse_error(y, f), Contains("h100-sxm.yaml: memory[2]: unknown key 'bandwith'") &&
                                      Contains("did you mean 'bandwidth'?"));
    YAML::Node g = fresh(f);
    g["gpu"]["hbm_eficiency"] = 0.5;
    CHECK_THAT(parse_error(g, f), Contains("h100-sxm.yaml: gpu: unknown key 'hbm_eficiency'") &&
                                      Contains("did you mean 'hbm_efficiency'?"));
  }
  SECTION("missing required keys") {
    YAML::Node y = fresh(f);
    y.remove("clock");
    CHECK_THAT(parse_error(y, f), Contains("h100-sxm.yaml: clock: missing required key (a frequency)"));
    YAML::Node c = fresh(f);
    c["compute"].remove("units");
    CHECK_THAT(parse_error(c, f), Contains("h100-sxm.yaml: compute: units: missing required key"));
    YAML::Node g = fresh(f);
    g["gpu"].remove("kernel_gap");
    CHECK_THAT(parse_error(g, f), Contains("h100-sxm.yaml: gpu: kernel_gap: missing required key"));
    YAML::Node s = fresh(f);
    s.remove("sources");
    CHECK_THAT(parse_error(s, f), Contains("h100-sxm.yaml: sources: missing map of source tags"));
    YAML::Node m = fresh(f);
    m.remove("memory");
    CHECK_THAT(parse_error(m, f), Contains("h100-sxm.yaml: memory: missing required key"));
    YAML::Node a = fresh(f);
    a.remove("gpu");
    CHECK_THAT(parse_error(a, f), Contains("h100-sxm.yaml: gpu: launch_overhead: missing required key"));
  }
  SECTION("wrong unit class and missing unit") {
    YAML::Node y = fresh(f);
    y["clock"] = "3.35TB/s";
    CHECK_THAT(parse_error(y, f),
               Contains("h100-sxm.yaml: clock: ") && Contains("unit 'TB/s'") && Contains("a frequency is expected"));
    YAML::Node b = fresh(f);
    b["memory"][2]["bandwidth"] = "3.35GHz";
    CHECK_THAT(parse_error(b, f), Contains("memory[2]: bandwidth:") && Contains("a bandwidth is expected"));
    YAML::Node n = fresh(f);
    n["memory"][2]["capacity"] = "80";
    CHECK_THAT(parse_error(n, f), Contains("h100-sxm.yaml: memory[2]: capacity: '80' has no unit"));
  }
  SECTION("wrong types") {
    YAML::Node y = fresh(f);
    y["compute"]["units"] = "many";
    CHECK_THAT(parse_error(y, f), Contains("h100-sxm.yaml: compute: units: expected an integer, got 'many'"));
    YAML::Node l = fresh(f);
    l["tdp"] = std::vector<int>{700, 800};
    CHECK_THAT(parse_error(l, f), Contains("h100-sxm.yaml: tdp: expected a power"));
    YAML::Node r = fresh(f);
    r["compute"]["matrix_paths"]["wgmma"]["bf16"] = "fast";
    CHECK_THAT(parse_error(r, f),
               Contains("h100-sxm.yaml: compute: matrix_paths: wgmma: bf16: expected a plain number, got 'fast'"));
    YAML::Node b = fresh(f);
    b["memory"][0]["per_unit"] = "yes please";
    CHECK_THAT(parse_error(b, f), Contains("memory[0]: per_unit: expected true or false"));
    YAML::Node m = fresh(f);
    m["memory"] = "hbm";
    CHECK_THAT(parse_error(m, f), Contains("h100-sxm.yaml: memory: expected a non-empty list of mappings"));
    YAML::Node s = fresh(f);
    s["sources"] = "see the whitepaper";
    CHECK_THAT(parse_error(s, f), Contains("h100-sxm.yaml: sources: missing map of source tags"));
  }
  SECTION("out-of-range values") {
    YAML::Node y = fresh(f);
    y["gpu"]["hbm_efficiency"] = 1.5;
    CHECK_THAT(parse_error(y, f), Contains("h100-sxm.yaml: gpu: hbm_efficiency: value 1.5 is out of range"));
    YAML::Node u = fresh(f);
    u["compute"]["units"] = 0;
    CHECK_THAT(parse_error(u, f), Contains("h100-sxm.yaml: compute: units: value 0 is out of range [1, 100000]"));
    YAML::Node c = fresh(f);
    c["gpu"]["max_ctas_per_sm"] = 5000;
    CHECK_THAT(parse_error(c, f), Contains("gpu: max_ctas_per_sm: value 5000 is out of range"));
  }
  SECTION("negative sizes and zero clock") {
    YAML::Node y = fresh(f);
    y["memory"][2]["capacity"] = "-80GB";
    CHECK_THAT(parse_error(y, f), Contains("h100-sxm.yaml: memory[2]: capacity: must be positive, got '-80GB'"));
    YAML::Node z = fresh(f);
    z["clock"] = "0MHz";
    CHECK_THAT(parse_error(z, f), Contains("h100-sxm.yaml: clock: must be positive, got '0MHz'"));
    YAML::Node s = fresh(f);
    s["clock"] = "1kHz";
    CHECK_THAT(parse_error(s, f), Contains("h100-sxm.yaml: clock: must lie between 10MHz and 100GHz"));
    YAML::Node l = fresh(f);
    l["memory"][0]["latency_cycles"] = -1;
    CHECK_THAT(parse_error(l, f), Contains("memory[0]: latency_cycles: value -1 is out of range"));
  }
  SECTION("unknown names: arch, dtype, memory kind, link endpoint") {
    YAML::Node a = fresh(f);
    a["arch"] = "gpuu";
    CHECK_THAT(parse_error(a, f),
               Contains("h100-sxm.yaml: arch: ") && Contains("'gpuu'") && Contains("did you mean 'gpu'?"));
    YAML::Node d = fresh(f);
    d["compute"]["matrix_paths"]["wgmma"]["bf61"] = 4096;
    CHECK_THAT(parse_error(d, f),
               Contains("h100-sxm.yaml: compute: matrix_paths: wgmma: bf61: unknown dtype 'bf61'"));
    YAML::Node k = fresh(f);
    k["memory"][1]["kind"] = "cahce";
    CHECK_THAT(parse_error(k, f),
               Contains("h100-sxm.yaml: memory[1]: kind: unknown value 'cahce'") && Contains("did you mean 'cache'?"));
    YAML::Node l = fresh(f);
    YAML::Node link;
    link["from"] = "l2";
    link["to"] = "hmb";
    link["bandwidth"] = "1TB/s";
    l["links"].push_back(link);
    CHECK_THAT(parse_error(l, f),
               Contains("h100-sxm.yaml: links[0]: to: unknown value 'hmb'") && Contains("did you mean 'hbm'?"));
    YAML::Node ok = fresh(f);
    link["to"] = "hbm";
    ok["links"].push_back(link);
    CHECK_NOTHROW(parse_hw_spec(ok, "h100-sxm.yaml"));
  }
  SECTION("structural rules") {
    YAML::Node dup = fresh(f);
    dup["memory"][1]["name"] = "smem";
    CHECK_THAT(parse_error(dup, f), Contains("memory[1]: name: memory level 'smem' is defined twice"));
    YAML::Node nodram = fresh(f);
    nodram["memory"][2]["kind"] = "cache";
    CHECK_THAT(parse_error(nodram, f), Contains("h100-sxm.yaml: memory: needs one level with 'kind: dram'"));
    YAML::Node smem = fresh(f);
    smem["gpu"]["max_smem_per_cta"] = "300KiB";
    CHECK_THAT(parse_error(smem, f),
               Contains("h100-sxm.yaml: gpu: max_smem_per_cta: exceeds the shared-memory capacity"));
    YAML::Node nopath = fresh(f);
    nopath["compute"]["matrix_paths"]["wgmma"] = YAML::Node(YAML::NodeType::Map);
    CHECK_THAT(parse_error(nopath, f), Contains("compute: matrix_paths: wgmma: needs at least one dtype rate"));
    YAML::Node both = fresh(f);
    both["tpu"]["mxu_rows"] = 128;
    CHECK_THAT(parse_error(both, f), Contains("h100-sxm.yaml: unknown key 'tpu'"));
  }
  SECTION("TPU consistency rules") {
    YAML::Node c = fresh("tpu-v5e");
    c["tpu"]["cores_per_chip"] = 2;
    CHECK_THAT(parse_error(c, "tpu-v5e"), Contains("tpu-v5e.yaml: tpu: cores_per_chip: must equal compute.units (1)"));
    YAML::Node m = fresh("tpu-v5e");
    m["tpu"]["mxu_rows"] = 64;
    CHECK_THAT(parse_error(m, "tpu-v5e"), Contains("tpu-v5e.yaml: tpu: mxu_rows: ") && Contains("disagrees with"));
  }
}

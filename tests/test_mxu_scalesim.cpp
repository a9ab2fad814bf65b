// MXU cycles against SCALE-Sim v2, row by row. tests/data/scalesim_mxu_reference.csv is
// written by validation/tpu/scalesim_reference.py, an independent reading of SCALE-Sim's
// source (its docstring gives the mapping, formulas and file/function references):
//   compute_cycles = what SCALE-Sim reports as Total Cycles for the layer with a stall-free
//                    memory (demand-schedule rows - 1);
//   total_cycles   = Total Cycles under its default configs/scale.cfg (64 kB SRAMs, CALC mode),
//                    which adds ofmap write-buffer drain stalls once a layer writes more than
//                    32768 output words.
// attnsim models compute only, so it must give scalesim_total_cycles == compute_cycles exactly
// and a schedule one cycle longer (SCALE-Sim counts cycles from 0).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/tpu/mxu.h"

using namespace attnsim;

namespace {

namespace fs = std::filesystem;

struct RefRow {
  int64_t rows, cols;
  std::string dataflow;
  int64_t m, n, k;
  int64_t compute_cycles, total_cycles;
};

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  return cells;
}

std::vector<RefRow> load_reference() {
  const fs::path path = fs::path(ATTNSIM_TEST_DIR) / "data" / "scalesim_mxu_reference.csv";
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<RefRow> out;
  std::map<std::string, size_t> col;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cells = split_csv(line);
    if (col.empty()) {
      for (size_t i = 0; i < cells.size(); ++i) col[cells[i]] = i;
      for (const char* name : {"rows", "cols", "dataflow", "m", "n", "k", "compute_cycles", "total_cycles"})
        REQUIRE(col.count(name) == 1);
      continue;
    }
    REQUIRE(cells.size() == col.size());
    auto num = [&](const char* name) { return static_cast<int64_t>(std::stoll(cells[col[name]])); };
    out.push_back({num("rows"), num("cols"), cells[col["dataflow"]], num("m"), num("n"), num("k"),
                   num("compute_cycles"), num("total_cycles")});
  }
  return out;
}

}  // namespace

TEST_CASE("MXU: every SCALE-Sim v2 reference row, exactly", "[mxu]") {
  const std::vector<RefRow> ref = load_reference();
  REQUIRE(ref.size() >= 60);
  std::set<std::string> dataflows;
  for (const RefRow& r : ref) {
    CAPTURE(r.rows, r.cols, r.dataflow, r.m, r.n, r.k);
    dataflows.insert(r.dataflow);
    MxuGemm g;
    g.rows = r.rows;
    g.cols = r.cols;
    g.dataflow = parse_dataflow(r.dataflow);
    g.m = r.m, g.n = r.n, g.k = r.k;
    const MxuCycles c = mxu_gemm_cycles(g);
    CHECK(c.scalesim_total_cycles == r.compute_cycles);
    CHECK(c.compute_cycles == r.compute_cycles + 1);  // rows of SCALE-Sim's demand schedule
    // The default memory only ever adds stalls (never removes cycles).
    CHECK(r.total_cycles >= r.compute_cycles);
  }
  CHECK(dataflows == std::set<std::string>{"os", "ws", "is"});
}

#include "sim/sweep/sweep_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/error.h"
#include "sim/sweep/sweep_point.h"

namespace attnsim {
namespace {

PointResult run_one(const SweepSpec& spec, size_t p) {
  PointResult r;
  r.point = p;
  try {
    r.row_json = run_point(spec, p).dump();
  } catch (const Error& e) {
    r.error = e.what();
  } catch (const std::exception& e) {
    r.error = std::string("internal error: ") + e.what();
  }
  return r;
}

}  // namespace

std::vector<PointResult> run_points(const SweepSpec& spec, const std::vector<size_t>& points, int jobs) {
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(points.size())));
  std::vector<PointResult> out;
  if (jobs == 1) {
    for (size_t p : points) out.push_back(run_one(spec, p));
    return out;
  }
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::vector<pid_t> pids;
  std::fflush(nullptr);  // nothing buffered is written twice by the children
  for (int w = 0; w < jobs; ++w) {
    std::string tmpl = (fs::temp_directory_path() / "attnsim-sweep-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) throw Error("sweep: cannot create a temporary file in " + fs::temp_directory_path().string());
    close(fd);
    files.push_back(tmpl);
    const pid_t pid = fork();
    if (pid < 0) throw Error("sweep: cannot start a worker process");
    if (pid == 0) {
      std::vector<PointResult> mine;
      for (size_t i = static_cast<size_t>(w); i < points.size(); i += static_cast<size_t>(jobs)) {
        mine.push_back(run_one(spec, points[i]));
      }
      std::ofstream(tmpl, std::ios::binary) << encode_results(mine);
      std::_Exit(0);
    }
    pids.push_back(pid);
  }
  bool died = false;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    died |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    for (PointResult& r : decode_results(text.str())) out.push_back(std::move(r));
    std::error_code ec;
    fs::remove(f, ec);
  }
  if (died || out.size() != points.size()) throw Error("sweep: a worker process died before finishing its points");
  // Back into the order asked for.
  std::vector<PointResult> ordered;
  for (size_t p : points) {
    auto it = std::find_if(out.begin(), out.end(), [p](const PointResult& r) { return r.point == p; });
    ordered.push_back(std::move(*it));
  }
  return ordered;
}

std::string encode_results(const std::vector<PointResult>& rs) {
  std::string s;
  for (const PointResult& r : rs) s += std::to_string(r.point) + '\t' + (r.error.empty() ? "+" + r.row_json : "!" + r.error) + '\n';
  return s;
}

std::vector<PointResult> decode_results(const std::string& text) {
  std::vector<PointResult> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab + 1 >= line.size()) continue;
    PointResult r;
    r.point = std::stoull(line.substr(0, tab));
    (line[tab + 1] == '+' ? r.row_json : r.error) = line.substr(tab + 2);
    out.push_back(std::move(r));
  }
  return out;
}

SweepRows rows_of(std::vector<PointResult> results) {
  std::sort(results.begin(), results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  SweepRows rows;
  for (const PointResult& r : results) {
    if (!r.error.empty()) throw Error(r.error);
    rows.push_back(nlohmann::ordered_json::parse(r.row_json));
  }
  return rows;
}

}  // namespace attnsim

#include "sim/core/forked_map.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/core/error.h"

namespace attnsim {

int default_workers(unsigned cores, double available_bytes, double bytes_per_worker) {
  double n = std::max(1u, cores);
  if (available_bytes > 0 && bytes_per_worker > 0) n = std::min(n, std::floor(available_bytes / bytes_per_worker));
  return static_cast<int>(std::max(1.0, n));
}

int default_workers(double bytes_per_worker) {
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const double available = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
  return default_workers(std::thread::hardware_concurrency(), available, bytes_per_worker);
}

std::vector<std::string> forked_map(size_t n, int jobs, const std::function<std::string(size_t)>& job,
                                    const std::string& what) {
  std::vector<std::string> out(n);
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(n)));
  if (jobs == 1) {
    for (size_t i = 0; i < n; ++i) out[i] = job(i);
    return out;
  }
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::vector<pid_t> pids;
  std::fflush(nullptr);  // nothing buffered is written twice by the children
  for (int w = 0; w < jobs; ++w) {
    std::string tmpl = (fs::temp_directory_path() / "attnsim-jobs-XXXXXX").string();
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) throw Error(what + ": cannot create a temporary file in " + fs::temp_directory_path().string());
    close(fd);
    files.push_back(tmpl);
    const pid_t pid = fork();
    if (pid < 0) throw Error(what + ": cannot start a worker process");
    if (pid == 0) {
      // Each output as "<index> <+|!><length>\n<bytes>" ('!': an error message), so outputs
      // may hold newlines. Nothing may unwind out of here into the parent's code.
      std::ofstream f(tmpl, std::ios::binary);
      for (size_t i = static_cast<size_t>(w); i < n; i += static_cast<size_t>(jobs)) {
        std::string s;
        char flag = '+';
        try {
          s = job(i);
        } catch (const std::exception& e) {
          s = e.what();
          flag = '!';
        }
        f << i << ' ' << flag << s.size() << '\n' << s;
        if (flag == '!') break;
      }
      f.close();
      std::_Exit(f ? 0 : 1);
    }
    pids.push_back(pid);
  }
  bool died = false;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    died |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  size_t got = 0, first_error = n;
  std::string error;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    size_t index = 0, length = 0;
    char flag = 0;
    while (in >> index >> std::ws && in.get(flag) && in >> length && in.get() == '\n' && index < n) {
      std::string s(length, '\0');
      if (!in.read(s.data(), static_cast<std::streamsize>(length))) break;
      if (flag == '!') {
        if (index < first_error) first_error = index, error = s;
      } else {
        out[index] = std::move(s);
        ++got;
      }
    }
    std::error_code ec;
    fs::remove(f, ec);
  }
  if (first_error < n) throw Error(error);
  if (died || got != n) throw Error(what + ": a worker process died before finishing its jobs");
  return out;
}

}  // namespace attnsim

// Running the attnsim binary (ATTNSIM_CLI) from tests: a scratch folder, the
// command's exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace attnsim_test {

namespace fs = std::filesystem;

inline const fs::path kRepo = fs::path(ATTNSIM_TEST_DIR).parent_path();
inline const fs::path kBadInputs = fs::path(ATTNSIM_TEST_DIR) / "bad-inputs";
// A small causal prefill layer (4 heads, GQA 2, 4k tokens): quick to simulate, enough CTAs to plot.
inline const char* const kSmallCausalWorkload =
    "name: small-causal\nbatch: 1\nq_heads: 4\nkv_heads: 2\nhead_dim: 64\nphase: prefill\nkv_len: 4096\n"
    "pattern: {name: causal}\n";

// A fresh folder under the temp dir, removed with its contents at scope exit.
struct CliDir {
  fs::path path;
  CliDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("attnsim_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~CliDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_text(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

// Writes `text` to the temp dir as `name` so that no reader sees it half written: ctest runs test
// cases as parallel processes that write the same fixture files, so each writes its own copy and
// renames it into place (atomic on POSIX). Returns the path.
inline std::string write_temp_file(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / name;
  const fs::path own = path.string() + "." + std::to_string(::getpid());
  write_text(own, text);
  fs::rename(own, path);
  return path.string();
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CliResult {
  int rc = -1;
  std::string out, err;
};

// Runs `program` (default: the attnsim CLI) with `args`.
inline CliResult run_cli(const std::vector<std::string>& args, const fs::path& scratch,
                         const std::string& program = ATTNSIM_CLI) {
  std::string cmd = shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  const fs::path out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  cmd += " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

inline size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace attnsim_test

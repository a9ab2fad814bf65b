// attnsim command-line entry point. Every user mistake ends as one line on
// stderr and exit code 2; internal failures as exit code 3.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/cli/command.h"
#include "sim/core/error.h"

namespace attnsim {

void write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  // Write to a temporary name and rename, so a failure leaves no partial result file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw Error(path + ": cannot write (does the directory exist?)");
    f << text;
    if (!f) throw Error(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw Error(path + ": cannot write");
}

void require_writable_output(const std::string& path) {
  if (path.empty() || path == "-") return;
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(path + ": cannot write (does the directory exist?)");
  if (::access(dir.c_str(), W_OK) != 0) throw Error(path + ": cannot write (the directory is not writable)");
  if (fs::is_directory(path, ec)) throw Error(path + ": cannot write (it is a directory)");
}

}  // namespace attnsim

int main(int argc, char** argv) {
  CLI::App app{"attnsim - hardware simulator and cost model for (sparse) attention"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "attnsim 0.1.0");
  for (const auto& [name, entry] : attnsim::CommandRegistry::instance().entries()) entry.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "attnsim: %s (see 'attnsim --help')\n", e.what());
    return 2;
  } catch (const attnsim::Error& e) {
    std::fprintf(stderr, "attnsim: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "attnsim: error: out of memory; reduce the workload size\n");
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnsim: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}

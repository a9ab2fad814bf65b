#include "sim/cli/measurement_inputs.h"

#include <algorithm>
#include <filesystem>

#include "sim/core/error.h"
#include "sim/core/paths.h"

namespace attnsim {

std::vector<std::string> measurement_files(const std::vector<std::string>& inputs, const std::string& default_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> named = inputs;
  if (named.empty()) named.push_back((fs::path(data_root()) / default_dir).string());
  std::vector<std::string> files;
  for (const std::string& in : named) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in)) {
        if (e.path().extension() == ".jsonl") found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in, ec)) {
      files.push_back(in);
    } else {
      throw Error(in + ": no such measurement file or folder");
    }
  }
  return files;
}

}  // namespace attnsim

#include "models/llm/data_files.h"

#include <algorithm>
#include <filesystem>

#include "sim/config/map_reader.h"
#include "sim/core/error.h"
#include "sim/core/paths.h"

namespace attnsim {

std::vector<std::string> list_data_files(const std::string& folder) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(data_root()) / folder, ec)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string resolve_data_file(const std::string& name_or_path, const std::string& folder, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
  const fs::path candidate = fs::path(data_root()) / folder / (name_or_path + ".yaml");
  if (fs::is_regular_file(candidate, ec)) return candidate.string();
  const std::vector<std::string> names = list_data_files(folder);
  if (name_or_path.find('/') != std::string::npos || fs::path(name_or_path).extension() == ".yaml") {
    throw Error(name_or_path + ": no such file (shipped " + what + "s: " + join_names(names) + ")");
  }
  const std::string hint = nearest_name(name_or_path, names);
  throw Error("unknown " + what + " '" + name_or_path + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
              "; shipped " + what + "s: " + join_names(names) + " (or give a path to a YAML file)");
}

}  // namespace attnsim

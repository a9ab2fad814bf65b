// Progress on stderr for anything that takes over a second: silent for fast
// stages, a ticking "stage... Ns" line for slow ones. Never touches stdout,
// so --json output stays clean.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace attnsim {

class Progress {
 public:
  explicit Progress(std::string stage, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  std::string stage_;
  bool enabled_;
  bool printed_ = false;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread ticker_;
};

}  // namespace attnsim

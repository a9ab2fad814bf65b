#include "sim/core/progress.h"

#include <cstdio>

namespace attnsim {

Progress::Progress(std::string stage, bool enabled)
    : stage_(std::move(stage)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      std::fprintf(stderr, "\rattnsim: %s... %.0f s", stage_.c_str(), s);
      std::fflush(stderr);
      printed_ = true;
    }
  });
}

Progress::~Progress() {
  if (!enabled_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  if (printed_) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\rattnsim: %s... done in %.1f s\n", stage_.c_str(), s);
  }
}

}  // namespace attnsim

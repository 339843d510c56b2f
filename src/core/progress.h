// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Progress bar for long loops: done/total, rate, elapsed and ETA, optional postfix (e.g. the loss).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace detlab {

/// Draws "label  42% |#####     | 21/50 [00:03<00:04, 6.2 it/s] loss 0.41" on stderr.
/// On a terminal the line is redrawn in place (at most 10 times a second); otherwise (logs, CI) a line is
/// printed every 10 % or 30 s so that logs stay short. Disabled globally with set_enabled(false) (--quiet).
/// thread safety: tick() and set_postfix() may be called from several threads at once.
class ProgressBar {
 public:
  /// total <= 0 means unknown: the bar shows count and rate only.
  ProgressBar(std::string label, int64_t total, std::string unit = "it");
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void tick(int64_t n = 1);
  void set_postfix(const std::string& postfix);
  /// Draws the final state and ends the line; called by the destructor if not called before.
  void finish();
  int64_t done() const { return done_.load(); }

  static void set_enabled(bool enabled);
  static bool enabled();

 private:
  void draw(bool final_line);

  std::string label_, unit_, postfix_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
  bool finished_ = false;
  bool tty_ = false;
  std::mutex mutex_;
};

/// "1:02:03" / "02:03" style duration.
std::string format_duration(double seconds);

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Terminal / log progress bar.
#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace detlab {

namespace {
std::atomic<bool> g_enabled{true};
constexpr double kRedrawSeconds = 0.1;     // terminal refresh limit
constexpr double kLogEverySeconds = 30.0;  // non-terminal: at least one line this often
}  // namespace

void ProgressBar::set_enabled(bool enabled) { g_enabled = enabled; }
bool ProgressBar::enabled() { return g_enabled; }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  tty_ = ::isatty(STDERR_FILENO) != 0;
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::tick(int64_t n) {
  done_ += n;
  if (!g_enabled) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (since >= kRedrawSeconds) draw(false);
  } else {
    const int decile = total_ > 0 ? static_cast<int>(10 * done_.load() / total_) : -1;
    if ((decile != last_decile_ && decile < 10) || since >= kLogEverySeconds) {
      last_decile_ = decile;
      draw(false);
    }
  }
}

void ProgressBar::set_postfix(const std::string& postfix) {
  std::lock_guard<std::mutex> lock(mutex_);
  postfix_ = postfix;
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (g_enabled) draw(true);
}

void ProgressBar::draw(bool final_line) {
  const auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t done = done_.load();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  std::string line = label_;
  char buf[160];
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / total_);
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(frac * kWidth);
    std::snprintf(buf, sizeof buf, " %3d%% |", static_cast<int>(100 * frac));
    line += buf;
    line += std::string(filled, '#') + std::string(kWidth - filled, ' ') + "| ";
    const double eta = rate > 0 ? (total_ - done) / rate : NAN;
    std::snprintf(buf, sizeof buf, "%lld/%lld [%s<%s, ", static_cast<long long>(done),
                  static_cast<long long>(total_), format_duration(elapsed).c_str(), format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof buf, " %lld [%s, ", static_cast<long long>(done), format_duration(elapsed).c_str());
  }
  line += buf;
  if (rate >= 1.0 || rate == 0.0)
    std::snprintf(buf, sizeof buf, "%.1f %s/s]", rate, unit_.c_str());
  else
    std::snprintf(buf, sizeof buf, "%.2f s/%s]", 1.0 / rate, unit_.c_str());
  line += buf;
  if (!postfix_.empty()) line += " " + postfix_;
  if (tty_)
    std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
  else
    std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace detlab

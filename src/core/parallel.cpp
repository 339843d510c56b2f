// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parallel_for with std::thread workers and first-exception propagation.
#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace detlab {

int resolve_threads(int threads, int tasks) {
  int t = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  return std::max(1, std::min(t, tasks));
}

void parallel_for(int n, int threads, const std::function<void(int, int)>& fn) {
  if (n <= 0) return;
  const int workers = resolve_threads(threads, n);
  if (workers == 1) {
    for (int i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex error_mutex;
  auto work = [&](int worker) {
    for (;;) {
      if (failed) return;
      const int i = next++;
      if (i >= n) return;
      try {
        fn(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first) first = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace detlab

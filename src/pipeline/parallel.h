// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parallel_for over indices with worker threads (per-image work: proposals, HOG pyramids, mining passes).
#pragma once

#include <functional>

namespace detlab {

/// Worker count for `threads` (0 or less: every hardware thread), never more than `tasks` nor less than 1.
int resolve_threads(int threads, int tasks);

/// Calls fn(i, worker) for i in [0, n), spread over resolve_threads(threads, n) threads; worker in
/// [0, workers) identifies the calling thread (for per-thread state). Indices are handed out in increasing
/// order, one at a time. The first exception thrown by fn stops the hand-out and is rethrown here once all
/// workers have returned. threads == 1 runs inline on the calling thread.
void parallel_for(int n, int threads, const std::function<void(int index, int worker)>& fn);

/// While alive, OpenCV's thread pool and OpenBLAS (when the process has it loaded) use `threads` threads;
/// the previous counts come back on destruction. Per-image work that already runs on several workers asks
/// for 1: the libraries' own pools would only oversubscribe the cores, and OpenBLAS's idle threads spin in
/// sched_yield (measured: a quarter of a BCCD HOG+SVM training run's CPU time, all of it system time).
/// thread safety: process-wide settings; create it on the thread that starts the workers, not inside them.
class ScopedLibraryThreads {
 public:
  explicit ScopedLibraryThreads(int threads);
  ~ScopedLibraryThreads();
  ScopedLibraryThreads(const ScopedLibraryThreads&) = delete;
  ScopedLibraryThreads& operator=(const ScopedLibraryThreads&) = delete;

 private:
  int opencv_ = 0, openblas_ = 0;  // counts to restore (openblas_ = 0: OpenBLAS not loaded)
};

}  // namespace detlab

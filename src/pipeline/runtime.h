// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The thread pools of the libraries a command uses (OpenCV, OpenBLAS, LibTorch): set once per command, read back.
#pragma once

#include <string>

namespace detlab {

/// The thread count that `--threads N` means: N when N > 0, else every hardware thread (at least 1).
int resolve_thread_count(int requested);

/// The pools' current sizes. A library that the process has not loaded reads 0.
struct LibraryThreads {
  int opencv = 0;
  int openblas = 0;
  int torch = 0;  ///< LibTorch's intra-op threads as the calling thread sees them (OpenMP keeps it per thread)

  /// "OpenCV 2, OpenBLAS 1, LibTorch 2" (libraries not loaded are left out).
  std::string describe() const;
  /// Whether the pools are what set_library_threads(n) sets.
  bool matches(int n) const;
};

/// Reads the pools' sizes.
LibraryThreads library_threads();

/// Sets OpenCV's pool and LibTorch's intra-op threads (where the process has it loaded) to n, and OpenBLAS's
/// pool to n, or to 1 when LibTorch is loaded: LibTorch parallelises with its OpenMP pool, and OpenBLAS's own
/// pthread pool beside it oversubscribes the cores (measured on 2 cores with 2 threads: RetinaNet inference
/// 43.7 ms per BCCD image with both pools, 13.6 with OpenBLAS on 1, 18.4 on one thread overall; 100 training
/// iterations 30.5 s against 38.3 s on one thread). Every command calls it once, with
/// resolve_thread_count(--threads), before any work: results of float reductions depend on the thread count,
/// so it is part of every run's provenance.
/// requires: n >= 1. thread safety: process-wide; LibTorch's count is set for the calling thread, which is the
/// one that runs the networks (detection and the training loop).
void set_library_threads(int n);

/// While alive, the libraries' pools use `threads` threads; the previous counts come back on destruction.
/// Per-image work that already runs on several workers asks for 1: the libraries' own pools would only
/// oversubscribe the cores, and OpenBLAS's idle threads spin in sched_yield (measured: a quarter of a BCCD
/// HOG+SVM training run's CPU time, all of it system time). The training engine also uses it, so that a
/// trainer asked for another count hands the command's own count back when it returns.
/// thread safety: process-wide settings; create it on the thread that starts the workers, not inside them.
class ScopedLibraryThreads {
 public:
  explicit ScopedLibraryThreads(int threads);
  ~ScopedLibraryThreads();
  ScopedLibraryThreads(const ScopedLibraryThreads&) = delete;
  ScopedLibraryThreads& operator=(const ScopedLibraryThreads&) = delete;

 private:
  LibraryThreads previous_;
};

}  // namespace detlab

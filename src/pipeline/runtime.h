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

  /// "OpenCV 2, OpenBLAS 2, LibTorch 2" (libraries not loaded are left out).
  std::string describe() const;
  /// Whether every loaded library runs exactly n threads (what set_library_threads(n) sets).
  bool matches(int n) const;
};

/// Reads the pools' sizes.
LibraryThreads library_threads();

/// Sets OpenCV's pool, OpenBLAS's and LibTorch's intra-op threads (the latter two where the process has them
/// loaded) to n. Every command calls it once, with resolve_thread_count(--threads), before any work: results
/// of float reductions depend on the thread count, so it is part of every run's provenance. Networks run
/// inside a ScopedNetworkThreads.
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

/// While alive, OpenBLAS runs one thread when LibTorch is loaded: LibTorch parallelises a network with its
/// OpenMP pool, whose threads spin after each parallel region, and OpenBLAS's own pthread pool beside them
/// oversubscribes the cores (measured on 2 cores, 2 threads: RetinaNet inference 43.7 ms per BCCD image with both
/// pools, 13.6 with OpenBLAS on one, 18.4 on one thread overall; 100 training iterations 30.5 s, one thread
/// 38.3 s). Classical stages keep OpenBLAS's whole pool outside it (HOG+SVM's SVM scoring: 20 ms per image on
/// 2 OpenBLAS threads, 30 on one). The training engine and every detector that runs a network hold one.
/// thread safety: as ScopedLibraryThreads; nesting is fine.
class ScopedNetworkThreads {
 public:
  ScopedNetworkThreads();
  ~ScopedNetworkThreads();
  ScopedNetworkThreads(const ScopedNetworkThreads&) = delete;
  ScopedNetworkThreads& operator=(const ScopedNetworkThreads&) = delete;

 private:
  int openblas_ = 0;  // the count to restore; 0: nothing was changed
};

}  // namespace detlab

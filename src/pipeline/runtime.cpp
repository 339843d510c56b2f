// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Library thread pools: OpenCV directly, OpenBLAS and LibTorch looked up at run time.
#include "pipeline/runtime.h"

#include <dlfcn.h>

#include <opencv2/core/utility.hpp>

#include <thread>

#include "core/error.h"

namespace detlab {

namespace {

// OpenBLAS and LibTorch are looked up at run time so that this torch-free layer links neither, yet every
// command (torch-free ones included) sets and reports all pools through one function. LibTorch's symbols are
// at::set_num_threads(int) / at::get_num_threads() under the Itanium C++ ABI; tests/pipeline/test_runtime.cpp
// checks in a LibTorch build that they resolve.
using SetThreads = void (*)(int);
using GetThreads = int (*)();

struct Pool {
  SetThreads set = nullptr;
  GetThreads get = nullptr;
  int read() const { return set && get ? get() : 0; }
  void write(int n) const {
    if (set && get && n > 0) set(n);
  }
};

Pool lookup(const char* set_name, const char* get_name) {
  return {reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, set_name)),
          reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, get_name))};
}

Pool openblas() { return lookup("openblas_set_num_threads", "openblas_get_num_threads"); }
Pool torch() { return lookup("_ZN2at15set_num_threadsEi", "_ZN2at15get_num_threadsEv"); }

}  // namespace

int resolve_thread_count(int requested) {
  if (requested > 0) return requested;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::string LibraryThreads::describe() const {
  std::string s = "OpenCV " + std::to_string(opencv);
  if (openblas > 0) s += ", OpenBLAS " + std::to_string(openblas);
  if (torch > 0) s += ", LibTorch " + std::to_string(torch);
  return s;
}

bool LibraryThreads::matches(int n) const {
  return opencv == n && (openblas == 0 || openblas == n) && (torch == 0 || torch == n);
}

LibraryThreads library_threads() {
  LibraryThreads t;
  t.opencv = cv::getNumThreads();
  t.openblas = openblas().read();
  t.torch = torch().read();
  return t;
}

void set_library_threads(int n) {
  DETLAB_REQUIRE(n >= 1, "thread count must be >= 1", n);
  cv::setNumThreads(n);
  openblas().write(n);
  torch().write(n);
}

ScopedLibraryThreads::ScopedLibraryThreads(int threads) : previous_(library_threads()) {
  set_library_threads(threads);
}

ScopedLibraryThreads::~ScopedLibraryThreads() {
  cv::setNumThreads(previous_.opencv);
  openblas().write(previous_.openblas);
  torch().write(previous_.torch);
}

ScopedNetworkThreads::ScopedNetworkThreads() {
  const Pool blas = openblas();
  const int n = blas.read();
  if (n > 1 && torch().read() > 0) {
    openblas_ = n;
    blas.write(1);
  }
}

ScopedNetworkThreads::~ScopedNetworkThreads() {
  if (openblas_ > 0) openblas().write(openblas_);
}

}  // namespace detlab

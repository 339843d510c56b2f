// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// reuse_large_allocations(): glibc mallopt thresholds.
#include "pipeline/allocator.h"

#include <cstdint>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace detlab {

void reuse_large_allocations() {
#if defined(__GLIBC__)
  constexpr int kOneGiB = 1 << 30;  // above any per-image buffer; the heap keeps them for the next image
  mallopt(M_MMAP_THRESHOLD, kOneGiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
#endif
}

cv::Mat zeros_large(int rows, int cols, int type) {
  cv::Mat m(rows, cols, type);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = 2u << 20;  // x86-64 / arm64 transparent huge page
  const uintptr_t begin = reinterpret_cast<uintptr_t>(m.data), end = begin + m.total() * m.elemSize();
  const uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1), last = end & ~(kHugePage - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // advice only
#endif
  m.setTo(cv::Scalar::all(0));
  return m;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// numpy-exact numerics: linspace, arange, pairwise summation.
#include "eval/numeric.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace detlab {

namespace {

// numpy's reduction buffer (NPY_BUFSIZE) and pairwise leaf size (PW_BLOCKSIZE).
constexpr size_t kNumpyBufferSize = 8192;
constexpr size_t kPairwiseBlock = 128;

// numpy/core/src/umath/loops_utils.h.src: pairwise_sum for DOUBLE.
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= kPairwiseBlock) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

}  // namespace

std::vector<double> numpy_linspace(double start, double stop, int num) {
  DETLAB_REQUIRE(num >= 0, num);
  std::vector<double> y(static_cast<size_t>(num));
  if (num == 0) return y;
  if (num == 1) {
    y[0] = start;
    return y;
  }
  const double delta = stop - start;
  const double step = delta / (num - 1);
  for (int i = 0; i < num; ++i) y[i] = i * step + start;
  y[num - 1] = stop;
  return y;
}

std::vector<double> numpy_arange(double start, double stop, double step) {
  DETLAB_REQUIRE(step != 0 && std::isfinite(step) && std::isfinite(start) && std::isfinite(stop), start, stop, step);
  const double len = std::ceil((stop - start) / step);
  std::vector<double> y(len > 0 ? static_cast<size_t>(len) : 0);
  if (y.empty()) return y;
  // numpy fills the first two values, then start + i * (second - first) (DOUBLE_fill).
  const double delta = (start + step) - start;
  y[0] = start;
  if (y.size() > 1) y[1] = start + step;
  for (size_t i = 2; i < y.size(); ++i) y[i] = start + static_cast<double>(i) * delta;
  return y;
}

double numpy_sum(const double* values, size_t n) {
  double total = 0.;
  for (size_t begin = 0; begin < n; begin += kNumpyBufferSize)
    total += pairwise_sum(values + begin, std::min(kNumpyBufferSize, n - begin));
  return total;
}

double numpy_mean(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return numpy_sum(v) / static_cast<double>(v.size());
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// numpy-exact numerics used by the metrics: linspace, arange, blocked pairwise sum / mean, eps constants.
#pragma once

#include <cstddef>
#include <vector>

namespace detlab {

/// numpy.linspace(start, stop, num) (endpoint = true) bit for bit: start + i * ((stop - start) / (num - 1)),
/// the last element set to stop. pycocotools builds its IoU and recall thresholds this way, so that the 9th
/// IoU threshold is 0.8999999999999999, not 0.9.
std::vector<double> numpy_linspace(double start, double stop, int num);

/// numpy.arange(start, stop, step) for doubles bit for bit: length ceil((stop - start) / step), element i is
/// start + i * (start + step - start). The VOC07 11-point thresholds are numpy_arange(0, 1.1, 0.1): the 7th
/// is 0.6000000000000001, so a recall of exactly 0.6 does not reach it.
std::vector<double> numpy_arange(double start, double stop, double step);

/// numpy.sum of a contiguous float64 array bit for bit: pairwise summation (8-way unrolled leaves of at most
/// 128 elements) over buffers of 8192 elements, the buffers added left to right (numpy 1.x reduction).
double numpy_sum(const double* values, size_t n);
inline double numpy_sum(const std::vector<double>& v) { return numpy_sum(v.data(), v.size()); }
/// numpy.mean: numpy_sum / n (NaN for n == 0, as numpy).
double numpy_mean(const std::vector<double>& v);

/// np.spacing(1) == np.finfo(np.float64).eps == 2^-52: pycocotools adds it to tp + fp, voc_eval.py clamps
/// tp + fp from below with it.
constexpr double kFloat64Eps = 2.220446049250313e-16;

}  // namespace detlab

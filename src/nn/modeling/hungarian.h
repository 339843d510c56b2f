// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Exact linear assignment (Hungarian / Jonker-Volgenant shortest augmenting paths) for rectangular cost matrices.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace detlab {

/// A minimum-cost assignment: rows[k] is matched to cols[k]; rows ascending (scipy's linear_sum_assignment order).
struct Assignment {
  std::vector<int64_t> rows;
  std::vector<int64_t> cols;
  double cost = 0;  // sum of cost(rows[k], cols[k])
};

/// What this represents: the linear sum assignment problem (Kuhn 1955; Munkres 1957), solved exactly by
/// successive shortest augmenting paths with dual potentials (Jonker & Volgenant 1987), O(n^2 m) for n =
/// min(rows, cols) and m = max(rows, cols). Each of the n rows (or columns, when there are fewer columns) is
/// matched to a distinct column (row) so that the total cost is minimal; the rest stay unmatched. This is what
/// scipy.optimize.linear_sum_assignment computes; DETR's HungarianMatcher calls it once per image.
/// With ties several assignments are optimal: any one of them may be returned (the cost is the same).
/// thread safety: pure function.
///
/// requires: cost holds rows x cols finite values, row-major; rows, cols >= 0 (an empty side gives an empty
///           assignment). Non-finite costs throw c10::Error naming the position.
/// ensures:  rows.size() == cols.size() == min(rows, cols); rows strictly ascending; cols distinct.
Assignment linear_sum_assignment(const double* cost, int64_t rows, int64_t cols);
Assignment linear_sum_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols);

/// Tensor form: cost is a 2-D floating tensor on any device (solved on the CPU in double precision).
/// ensures: (row indices, column indices), int64 CPU tensors of length min(R, C), rows ascending.
std::pair<at::Tensor, at::Tensor> linear_sum_assignment(const at::Tensor& cost);

}  // namespace detlab

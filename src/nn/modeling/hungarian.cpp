// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// linear_sum_assignment: shortest augmenting paths with row / column potentials (the e-maxx formulation of the
// Hungarian method), on the side with fewer elements.
#include "nn/modeling/hungarian.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace detlab {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Solves n <= m: a(i, j) = cost of row i (0-based) and column j. Returns col_of_row (size n).
template <class CostFn>
std::vector<int64_t> solve_rows_le_cols(int64_t n, int64_t m, const CostFn& a) {
  // 1-based arrays as in the textbook formulation; index 0 is the virtual source column / row.
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), minv(m + 1);
  std::vector<int64_t> p(m + 1, 0), way(m + 1, 0);
  std::vector<char> used(m + 1);
  for (int64_t i = 1; i <= n; ++i) {
    // Grow a shortest-path tree from row i over reduced costs a(i, j) - u(i) - v(j) >= 0 until it reaches a
    // free column, then flip the path. Potentials keep every reduced cost non-negative (dual feasibility).
    p[0] = i;
    int64_t j0 = 0;
    std::fill(minv.begin(), minv.end(), kInf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int64_t i0 = p[j0];
      double delta = kInf;
      int64_t j1 = -1;
      for (int64_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      TORCH_CHECK(j1 > 0, "linear_sum_assignment: no augmenting path (internal error), n=", n, " m=", m);
      for (int64_t j = 0; j <= m; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {  // augment along the path back to the source
      const int64_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> col_of_row(n, -1);
  for (int64_t j = 1; j <= m; ++j) {
    if (p[j] != 0) col_of_row[p[j] - 1] = j - 1;
  }
  return col_of_row;
}

}  // namespace

Assignment linear_sum_assignment(const double* cost, int64_t rows, int64_t cols) {
  TORCH_CHECK(rows >= 0 && cols >= 0, "linear_sum_assignment: negative shape ", rows, " x ", cols);
  TORCH_CHECK(cost != nullptr || rows * cols == 0, "linear_sum_assignment: null cost matrix");
  for (int64_t k = 0; k < rows * cols; ++k) {
    TORCH_CHECK(std::isfinite(cost[k]), "linear_sum_assignment: cost(", k / cols, ", ", k % cols,
                ") is not finite: ", cost[k]);
  }
  Assignment out;
  if (rows == 0 || cols == 0) return out;
  if (rows <= cols) {
    const std::vector<int64_t> col_of_row =
        solve_rows_le_cols(rows, cols, [&](int64_t i, int64_t j) { return cost[i * cols + j]; });
    out.rows.resize(rows);
    std::iota(out.rows.begin(), out.rows.end(), 0);
    out.cols = col_of_row;
  } else {
    // More rows than columns: assign every column to a row on the transposed problem.
    const std::vector<int64_t> row_of_col =
        solve_rows_le_cols(cols, rows, [&](int64_t j, int64_t i) { return cost[i * cols + j]; });
    std::vector<int64_t> col_of_row(rows, -1);
    for (int64_t j = 0; j < cols; ++j) col_of_row[row_of_col[j]] = j;
    for (int64_t i = 0; i < rows; ++i) {
      if (col_of_row[i] < 0) continue;
      out.rows.push_back(i);
      out.cols.push_back(col_of_row[i]);
    }
  }
  for (size_t k = 0; k < out.rows.size(); ++k) out.cost += cost[out.rows[k] * cols + out.cols[k]];
  return out;
}

Assignment linear_sum_assignment(const std::vector<double>& cost, int64_t rows, int64_t cols) {
  TORCH_CHECK(static_cast<int64_t>(cost.size()) == rows * cols, "linear_sum_assignment: ", cost.size(),
              " values for a ", rows, " x ", cols, " matrix");
  return linear_sum_assignment(cost.data(), rows, cols);
}

std::pair<at::Tensor, at::Tensor> linear_sum_assignment(const at::Tensor& cost) {
  TORCH_CHECK(cost.dim() == 2, "linear_sum_assignment: cost must be 2-D, got ", cost.sizes());
  TORCH_CHECK(at::isFloatingType(cost.scalar_type()), "linear_sum_assignment: cost must be floating, got ",
              cost.scalar_type());
  const at::Tensor c = cost.detach().to(at::kCPU, at::kDouble).contiguous();
  const Assignment a = linear_sum_assignment(c.data_ptr<double>(), c.size(0), c.size(1));
  const auto n = static_cast<int64_t>(a.rows.size());
  at::Tensor rows = at::empty({n}, at::kLong), cols = at::empty({n}, at::kLong);
  std::copy(a.rows.begin(), a.rows.end(), rows.data_ptr<int64_t>());
  std::copy(a.cols.begin(), a.cols.end(), cols.data_ptr<int64_t>());
  return {rows, cols};
}

}  // namespace detlab

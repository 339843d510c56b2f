// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the exact assignment solver: hand-written cases, ties, rectangular shapes, brute force, subset DP.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <vector>

#include "nn/catch_torch.h"
#include "nn/modeling/hungarian.h"

using namespace detlab;

using detlab::Assignment;
using detlab::linear_sum_assignment;

namespace {

/// Reference: every injective map from the smaller side to the larger one (all permutations), minimal total.
double brute_force_cost(const std::vector<double>& c, int64_t rows, int64_t cols) {
  const bool transpose = rows > cols;
  const int64_t n = transpose ? cols : rows, m = transpose ? rows : cols;
  auto at = [&](int64_t i, int64_t j) { return transpose ? c[j * cols + i] : c[i * cols + j]; };
  double best = INFINITY;
  std::vector<char> used(m, 0);
  std::function<void(int64_t, double)> dfs = [&](int64_t i, double acc) {
    if (i == n) {
      best = std::min(best, acc);
      return;
    }
    for (int64_t j = 0; j < m; ++j) {
      if (used[j]) continue;
      used[j] = 1;
      dfs(i + 1, acc + at(i, j));
      used[j] = 0;
    }
  };
  dfs(0, 0.0);
  return n == 0 ? 0.0 : best;
}

/// Second exact reference for medium sizes: DP over the subset of used columns (rows <= cols <= ~16).
double subset_dp_cost(const std::vector<double>& c, int64_t rows, int64_t cols) {
  std::vector<double> dp(size_t(1) << cols, INFINITY);
  dp[0] = 0;
  double best = INFINITY;
  for (uint32_t mask = 0; mask < dp.size(); ++mask) {
    if (!std::isfinite(dp[mask])) continue;
    const int i = __builtin_popcount(mask);  // rows are taken in order: row i is next
    if (i == rows) {
      best = std::min(best, dp[mask]);
      continue;
    }
    for (int64_t j = 0; j < cols; ++j) {
      if (mask & (1u << j)) continue;
      double& next = dp[mask | (1u << j)];
      next = std::min(next, dp[mask] + c[i * cols + j]);
    }
  }
  return best;
}

/// The contract: min(rows, cols) pairs, rows ascending, columns distinct, indices in range, cost consistent.
void check_valid(const Assignment& a, const std::vector<double>& c, int64_t rows, int64_t cols) {
  REQUIRE(a.rows.size() == static_cast<size_t>(std::min(rows, cols)));
  REQUIRE(a.cols.size() == a.rows.size());
  double cost = 0;
  std::set<int64_t> seen_cols;
  for (size_t k = 0; k < a.rows.size(); ++k) {
    REQUIRE(a.rows[k] >= 0);
    REQUIRE(a.rows[k] < rows);
    REQUIRE(a.cols[k] >= 0);
    REQUIRE(a.cols[k] < cols);
    if (k > 0) REQUIRE(a.rows[k] > a.rows[k - 1]);
    REQUIRE(seen_cols.insert(a.cols[k]).second);
    cost += c[a.rows[k] * cols + a.cols[k]];
  }
  REQUIRE(a.cost == Approx(cost).margin(1e-9));
}

}  // namespace

TEST_CASE("assignment of a hand-written square matrix with a unique optimum", "[nn][hungarian]") {
  // scipy.optimize.linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]) -> rows [0 1 2], cols [1 0 2], cost 5.
  const std::vector<double> c = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  const Assignment a = linear_sum_assignment(c, 3, 3);
  CHECK(a.rows == std::vector<int64_t>{0, 1, 2});
  CHECK(a.cols == std::vector<int64_t>{1, 0, 2});
  CHECK(a.cost == 5.0);
}

TEST_CASE("assignment beats the greedy choice", "[nn][hungarian]") {
  // Greedy takes (0, 0) = 1 first and is then forced into (1, 1) = 100; the optimum is 2 + 3 = 5.
  const std::vector<double> c = {1, 2, 3, 100};
  const Assignment a = linear_sum_assignment(c, 2, 2);
  CHECK(a.cols == std::vector<int64_t>{1, 0});
  CHECK(a.cost == 5.0);
}

TEST_CASE("assignment of rectangular matrices leaves the extra side unmatched", "[nn][hungarian]") {
  SECTION("wide: 2 rows, 4 columns") {
    const std::vector<double> c = {9, 8, 1,   7,   //
                                   6, 2, 0.5, 9};  // both rows want column 2; row 1 settles for column 1
    const Assignment a = linear_sum_assignment(c, 2, 4);
    CHECK(a.rows == std::vector<int64_t>{0, 1});
    CHECK(a.cols == std::vector<int64_t>{2, 1});
    CHECK(a.cost == 3.0);
  }
  SECTION("tall: 4 rows, 2 columns (DETR: queries x targets)") {
    const std::vector<double> c = {0.2, 9,     //
                                   5,   5,     //
                                   9,   5,     //
                                   0,   0.1};  // greedy takes (3, 0) = 0 and then pays 5; the optimum pays 0.3
    const Assignment a = linear_sum_assignment(c, 4, 2);
    CHECK(a.rows == std::vector<int64_t>{0, 3});
    CHECK(a.cols == std::vector<int64_t>{0, 1});
    CHECK(a.cost == Approx(0.3));
  }
  SECTION("a single column") {
    const std::vector<double> c = {3, -2, 4};
    const Assignment a = linear_sum_assignment(c, 3, 1);
    CHECK(a.rows == std::vector<int64_t>{1});
    CHECK(a.cols == std::vector<int64_t>{0});
  }
}

TEST_CASE("assignment with ties returns one of the optimal assignments", "[nn][hungarian]") {
  SECTION("all costs equal") {
    const std::vector<double> c(16, 2.5);
    const Assignment a = linear_sum_assignment(c, 4, 4);
    check_valid(a, c, 4, 4);
    CHECK(a.cost == 10.0);
  }
  SECTION("two optimal permutations") {
    const std::vector<double> c = {1, 2, 2, 1};  // identity and swap both cost 2
    const Assignment a = linear_sum_assignment(c, 2, 2);
    check_valid(a, c, 2, 2);
    CHECK(a.cost == 2.0);
  }
  SECTION("tied rows in a tall matrix") {
    const std::vector<double> c = {0, 1, 0, 1, 0, 1};  // three identical rows, two columns
    const Assignment a = linear_sum_assignment(c, 3, 2);
    check_valid(a, c, 3, 2);
    CHECK(a.cost == 1.0);
  }
}

TEST_CASE("assignment of empty and degenerate shapes", "[nn][hungarian]") {
  CHECK(linear_sum_assignment(std::vector<double>{}, 0, 5).rows.empty());
  CHECK(linear_sum_assignment(std::vector<double>{}, 3, 0).cols.empty());
  const Assignment one = linear_sum_assignment(std::vector<double>{-7.5}, 1, 1);
  CHECK(one.rows == std::vector<int64_t>{0});
  CHECK(one.cost == -7.5);
  const auto [r, c] = linear_sum_assignment(torch::zeros({0, 4}));
  CHECK(r.numel() == 0);
  CHECK(c.numel() == 0);
}

TEST_CASE("assignment refuses non-finite costs and wrong sizes", "[nn][hungarian]") {
  CHECK_THROWS_WITH(linear_sum_assignment(std::vector<double>{0, NAN, 1, 2}, 2, 2),
                    Catch::Contains("cost(0, 1) is not finite"));
  CHECK_THROWS(linear_sum_assignment(std::vector<double>{0, INFINITY}, 1, 2));
  CHECK_THROWS(linear_sum_assignment(std::vector<double>{0, 1, 2}, 2, 2));
  CHECK_THROWS(linear_sum_assignment(torch::zeros({2, 2, 2})));
}

TEST_CASE("assignment equals brute force over all permutations on small random matrices", "[nn][hungarian]") {
  std::mt19937 rng(7767517);
  int cases = 0;
  for (int64_t rows = 1; rows <= 6; ++rows) {
    for (int64_t cols = 1; cols <= 6; ++cols) {
      for (int rep = 0; rep < 25; ++rep) {
        std::vector<double> c(rows * cols);
        // Half the cases draw small integers (many ties), half real values of both signs.
        if (rep % 2 == 0) {
          std::uniform_int_distribution<int> d(0, 3);
          for (double& x : c) x = d(rng);
        } else {
          std::uniform_real_distribution<double> d(-10, 10);
          for (double& x : c) x = d(rng);
        }
        const Assignment a = linear_sum_assignment(c, rows, cols);
        check_valid(a, c, rows, cols);
        INFO(rows << " x " << cols << " case " << rep);
        REQUIRE(a.cost == Approx(brute_force_cost(c, rows, cols)).margin(1e-9));
        ++cases;
      }
    }
  }
  CHECK(cases == 900);
}

TEST_CASE("assignment equals a subset dynamic programme on medium matrices", "[nn][hungarian]") {
  std::mt19937 rng(12345);
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{10, 10}, {8, 14}, {12, 15}, {3, 16}}) {
    for (int rep = 0; rep < 5; ++rep) {
      std::vector<double> c(rows * cols);
      std::uniform_real_distribution<double> d(0, 1);
      for (double& x : c) x = d(rng);
      const Assignment a = linear_sum_assignment(c, rows, cols);
      check_valid(a, c, rows, cols);
      REQUIRE(a.cost == Approx(subset_dp_cost(c, rows, cols)).margin(1e-9));
      // The transposed problem has the same optimum.
      std::vector<double> t(c.size());
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = c[i * cols + j];
      const Assignment b = linear_sum_assignment(t, cols, rows);
      check_valid(b, t, cols, rows);
      REQUIRE(b.cost == Approx(a.cost).margin(1e-9));
    }
  }
}

TEST_CASE("assignment tensor form matches the vector form", "[nn][hungarian]") {
  torch::manual_seed(3);
  const torch::Tensor cost = torch::rand({7, 4});  // tall: queries x targets, as DETR's matcher calls it
  const auto [rows, cols] = linear_sum_assignment(cost);
  const torch::Tensor cd = cost.to(torch::kDouble).contiguous();
  const Assignment ref =
      linear_sum_assignment(std::vector<double>(cd.data_ptr<double>(), cd.data_ptr<double>() + 28), 7, 4);
  REQUIRE(rows.scalar_type() == torch::kLong);
  REQUIRE(rows.numel() == 4);
  CHECK(std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + 4) == ref.rows);
  CHECK(std::vector<int64_t>(cols.data_ptr<int64_t>(), cols.data_ptr<int64_t>() + 4) == ref.cols);
}

TEST_CASE("assignment of a 100 x 100 matrix is optimal against every 2-swap", "[nn][hungarian]") {
  // Larger than any exhaustive reference: an optimal assignment cannot be improved by exchanging the columns of
  // two rows (a necessary condition), and it costs no more than the identity or the greedy assignment.
  std::mt19937 rng(99);
  std::uniform_real_distribution<double> d(0, 1);
  const int64_t n = 100;
  std::vector<double> c(n * n);
  for (double& x : c) x = d(rng);
  const Assignment a = linear_sum_assignment(c, n, n);
  check_valid(a, c, n, n);
  double identity = 0;
  for (int64_t i = 0; i < n; ++i) identity += c[i * n + i];
  CHECK(a.cost <= identity);
  int improvable = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = i + 1; k < n; ++k) {
      const double now = c[i * n + a.cols[i]] + c[k * n + a.cols[k]];
      const double swapped = c[i * n + a.cols[k]] + c[k * n + a.cols[i]];
      if (swapped < now - 1e-12) ++improvable;
    }
  CHECK(improvable == 0);
  CHECK(a.cost < 5.0);  // the expected optimum of uniform costs tends to pi^2 / 6 ~ 1.64 (Aldous 2001)
}

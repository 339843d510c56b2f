// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// t-SNE: perplexity calibration, affinities, exact gradients and the optimization loop (bhtsne's schedule).
#include "viz/tsne.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <tuple>

#include "core/error.h"
#include "core/progress.h"

namespace detlab {

namespace {

constexpr double kTolerance = 1e-5;  // entropy tolerance of the precision search (bhtsne)
constexpr int kSearchSteps = 200;    // bisection steps (bhtsne)
constexpr int64_t kKnnBlock = 512;   // rows of the distance matrix held at once during the neighbour search

/// Squared Euclidean distances of rows [start, start + rows) of x to every row of x, in double.
torch::Tensor sq_distances(const torch::Tensor& x, const torch::Tensor& norms, int64_t start, int64_t rows) {
  const torch::Tensor b = x.narrow(0, start, rows);
  return (norms.narrow(0, start, rows).unsqueeze(1) + norms.unsqueeze(0) - 2.0 * b.mm(x.t())).clamp_min(0.0);
}

/// attractive_i = sum_j P_ij q_ij (y_i - y_j) for dense P.
void attraction_dense(const std::vector<double>& p, const std::vector<double>& y, int64_t n, double p_scale,
                      std::vector<double>& out) {
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double fx = 0, fy = 0;
      const double yi0 = y[2 * i], yi1 = y[2 * i + 1];
      const double* row = p.data() + static_cast<size_t>(i * n);
      for (int64_t j = 0; j < n; ++j) {
        const double dx = yi0 - y[2 * j], dy = yi1 - y[2 * j + 1];
        const double m = row[j] * p_scale / (1.0 + dx * dx + dy * dy);
        fx += m * dx;
        fy += m * dy;
      }
      out[2 * i] = fx;
      out[2 * i + 1] = fy;
    }
  });
}

void attraction_sparse(const TsneAffinities& a, const std::vector<double>& y, double p_scale, std::vector<double>& out) {
  at::parallel_for(0, a.n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double fx = 0, fy = 0;
      for (int64_t e = a.row_start[i]; e < a.row_start[i + 1]; ++e) {
        const int64_t j = a.col[e];
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const double m = a.val[e] * p_scale / (1.0 + dx * dx + dy * dy);
        fx += m * dx;
        fy += m * dy;
      }
      out[2 * i] = fx;
      out[2 * i + 1] = fy;
    }
  });
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& y, int64_t n) {
  double z = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (i != j) {
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        z += 1.0 / (1.0 + dx * dx + dy * dy);
      }
  double kl = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double pij = p[static_cast<size_t>(i * n + j)];
      if (i == j || pij <= 0) continue;
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      kl += pij * std::log(pij / (1.0 / (1.0 + dx * dx + dy * dy) / z));
    }
  return kl;
}

}  // namespace

double calibrate_row(const double* d, int64_t count, double perplexity, double* p) {
  DETLAB_REQUIRE(count >= 1 && perplexity > 0, count, perplexity);
  // Shifting the distances by their minimum leaves p and the entropy unchanged and keeps exp() in range.
  const double dmin = *std::min_element(d, d + count);
  const double target = std::log(perplexity);
  double beta = 1.0, lo = -DBL_MAX, hi = DBL_MAX;
  for (int step = 0; step < kSearchSteps; ++step) {
    double sum = 0, weighted = 0;
    for (int64_t j = 0; j < count; ++j) {
      p[j] = std::exp(-beta * (d[j] - dmin));
      sum += p[j];
      weighted += (d[j] - dmin) * p[j];
    }
    const double entropy = beta * weighted / sum + std::log(sum);
    const double diff = entropy - target;
    if (std::abs(diff) < kTolerance) break;
    if (diff > 0) {  // too flat: sharpen
      lo = beta;
      beta = hi == DBL_MAX ? beta * 2 : 0.5 * (beta + hi);
    } else {
      hi = beta;
      beta = lo == -DBL_MAX ? beta / 2 : 0.5 * (beta + lo);
    }
  }
  double sum = 0;
  for (int64_t j = 0; j < count; ++j) {
    p[j] = std::exp(-beta * (d[j] - dmin));
    sum += p[j];
  }
  for (int64_t j = 0; j < count; ++j) p[j] /= sum;
  return beta;
}

TsneAffinities tsne_affinities(const torch::Tensor& data, double perplexity, bool exact) {
  DETLAB_REQUIRE(data.dim() == 2 && data.size(0) >= 2, data.sizes());
  const torch::Tensor x = data.to(torch::kCPU, torch::kDouble).contiguous();
  const torch::Tensor norms = (x * x).sum(1);
  TsneAffinities a;
  a.n = x.size(0);
  const int64_t n = a.n;
  if (exact) {
    a.dense.assign(static_cast<size_t>(n * n), 0.0);
    const torch::Tensor d = sq_distances(x, norms, 0, n).contiguous();
    const double* dp = d.data_ptr<double>();
    at::parallel_for(0, n, 8, [&](int64_t begin, int64_t end) {
      std::vector<double> dist(static_cast<size_t>(n - 1)), row(static_cast<size_t>(n - 1));
      for (int64_t i = begin; i < end; ++i) {
        int64_t k = 0;
        for (int64_t j = 0; j < n; ++j)
          if (j != i) dist[static_cast<size_t>(k++)] = dp[i * n + j];
        calibrate_row(dist.data(), n - 1, perplexity, row.data());
        k = 0;
        for (int64_t j = 0; j < n; ++j)
          if (j != i) a.dense[static_cast<size_t>(i * n + j)] = row[static_cast<size_t>(k++)];
      }
    });
    double total = 0;  // symmetrize: P = (P + P^T) / sum
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) {
        const double s = a.dense[static_cast<size_t>(i * n + j)] + a.dense[static_cast<size_t>(j * n + i)];
        a.dense[static_cast<size_t>(i * n + j)] = a.dense[static_cast<size_t>(j * n + i)] = s;
        total += 2 * s;
      }
    for (double& v : a.dense) v /= total;
    return a;
  }

  // Barnes-Hut: conditional P over the K = 3 * perplexity nearest neighbours (van der Maaten 2014, section 4.1).
  const int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(3 * perplexity));
  std::vector<std::tuple<int64_t, int64_t, double>> entries;
  entries.reserve(static_cast<size_t>(2 * n * k));
  for (int64_t start = 0; start < n; start += kKnnBlock) {
    const int64_t rows = std::min(kKnnBlock, n - start);
    torch::Tensor d = sq_distances(x, norms, start, rows);
    d.index_put_({torch::arange(rows), torch::arange(start, start + rows)}, std::numeric_limits<double>::infinity());
    const auto [vals, idx] = d.topk(k, 1, /*largest=*/false, /*sorted=*/true);
    const torch::Tensor v = vals.contiguous(), ix = idx.contiguous();
    std::vector<double> row(static_cast<size_t>(k));
    for (int64_t r = 0; r < rows; ++r) {
      calibrate_row(v.data_ptr<double>() + r * k, k, perplexity, row.data());
      for (int64_t m = 0; m < k; ++m) {
        const int64_t j = ix.data_ptr<int64_t>()[r * k + m];
        entries.emplace_back(start + r, j, row[static_cast<size_t>(m)]);
        entries.emplace_back(j, start + r, row[static_cast<size_t>(m)]);
      }
    }
  }
  std::sort(entries.begin(), entries.end(), [](const auto& l, const auto& r) {
    return std::get<0>(l) != std::get<0>(r) ? std::get<0>(l) < std::get<0>(r) : std::get<1>(l) < std::get<1>(r);
  });
  a.row_start.assign(static_cast<size_t>(n + 1), 0);
  double total = 0;
  for (size_t e = 0; e < entries.size();) {
    const auto [i, j, v0] = entries[e];
    double v = 0;
    for (; e < entries.size() && std::get<0>(entries[e]) == i && std::get<1>(entries[e]) == j; ++e) v += std::get<2>(entries[e]);
    a.col.push_back(j);
    a.val.push_back(v);
    ++a.row_start[static_cast<size_t>(i + 1)];
    total += v;
    (void)v0;
  }
  for (int64_t i = 0; i < n; ++i) a.row_start[static_cast<size_t>(i + 1)] += a.row_start[static_cast<size_t>(i)];
  for (double& v : a.val) v /= total;
  return a;
}

double tsne_repulsion_exact(const std::vector<double>& y, std::vector<double>& forces) {
  const int64_t n = static_cast<int64_t>(y.size() / 2);
  forces.assign(y.size(), 0.0);
  std::vector<double> zpart(static_cast<size_t>(n), 0.0);
  at::parallel_for(0, n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double fx = 0, fy = 0, z = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const double q = 1.0 / (1.0 + dx * dx + dy * dy);
        z += q;
        fx += q * q * dx;
        fy += q * q * dy;
      }
      forces[2 * i] = fx;
      forces[2 * i + 1] = fy;
      zpart[static_cast<size_t>(i)] = z;
    }
  });
  double z = 0;
  for (double v : zpart) z += v;
  return z;
}

TsneResult tsne(const torch::Tensor& data, const TsneOptions& opts) {
  DETLAB_REQUIRE(data.dim() == 2 && data.size(0) >= kTsneMinPoints, data.sizes());
  DETLAB_REQUIRE(opts.perplexity > 0 && opts.iterations >= 1 && opts.learning_rate > 0 && opts.theta >= 0,
                 opts.perplexity, opts.iterations, opts.learning_rate, opts.theta);
  torch::Tensor x = data.to(torch::kCPU, torch::kDouble);
  DETLAB_REQUIRE(torch::isfinite(x).all().item<bool>(), "t-SNE input has NaN or infinite values");
  const int64_t n = x.size(0);
  x = x - x.mean(0, true);
  const double scale = x.abs().max().item<double>();
  if (scale > 0) x = x / scale;

  TsneResult r;
  r.exact = opts.method == TsneOptions::Method::kExact ||
            (opts.method == TsneOptions::Method::kAuto && n <= opts.exact_max);
  r.perplexity = std::min(opts.perplexity, (n - 1) / 3.0);  // every point needs 3 * perplexity neighbours
  const TsneAffinities p = tsne_affinities(x, r.perplexity, r.exact);

  std::mt19937_64 rng(opts.seed);
  std::normal_distribution<double> normal(0.0, 1e-4);
  std::vector<double> y(static_cast<size_t>(2 * n)), update(y.size(), 0.0), gains(y.size(), 1.0);
  for (double& v : y) v = normal(rng);
  std::vector<double> attract(y.size()), repel(y.size());
  double momentum = opts.momentum;
  std::unique_ptr<ProgressBar> bar;
  if (opts.progress) bar = std::make_unique<ProgressBar>(r.exact ? "t-SNE (exact)" : "t-SNE (Barnes-Hut)", opts.iterations, "it");
  for (int it = 0; it < opts.iterations; ++it) {
    if (it == opts.momentum_switch) momentum = opts.final_momentum;
    const double lie = it < opts.exaggeration_iters ? opts.exaggeration : 1.0;
    double z = 0;
    if (r.exact) {
      attraction_dense(p.dense, y, n, lie, attract);
      z = tsne_repulsion_exact(y, repel);
    } else {
      attraction_sparse(p, y, lie, attract);
      z = tsne_repulsion_bh(y, opts.theta, repel);
    }
    // Gradient (bhtsne's, without the constant 4 that its learning rate absorbs), gains (Jacobs 1988), momentum.
    for (size_t k = 0; k < y.size(); ++k) {
      const double g = attract[k] - repel[k] / z;
      gains[k] = (g > 0) != (update[k] > 0) ? gains[k] + 0.2 : gains[k] * 0.8;
      gains[k] = std::max(gains[k], 0.01);
      update[k] = momentum * update[k] - opts.learning_rate * gains[k] * g;
      y[k] += update[k];
    }
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; ++i) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    for (int64_t i = 0; i < n; ++i) {
      y[2 * i] -= mx / n;
      y[2 * i + 1] -= my / n;
    }
    if (bar) bar->tick();
  }
  if (bar) bar->finish();
  r.kl = r.exact ? kl_divergence(p.dense, y, n) : std::numeric_limits<double>::quiet_NaN();
  r.embedding = torch::tensor(y, torch::kDouble).view({n, 2}).to(torch::kFloat);
  return r;
}

}  // namespace detlab

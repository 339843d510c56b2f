// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// t-SNE: perplexity calibration, Barnes-Hut against exact sums, separated Gaussian clusters stay apart.
#include "../train/catch_torch.h"

#include <cmath>
#include <random>

#include "viz/tsne.h"

using namespace detlab;

namespace {

/// k clusters of m points in d dimensions: centres 10 sigma apart (well separated), labels = cluster.
torch::Tensor clusters(int k, int m, int d, uint64_t seed, std::vector<int>& labels) {
  torch::manual_seed(seed);
  const torch::Tensor centres = torch::randn({k, d}) * 10.0;
  std::vector<torch::Tensor> rows;
  labels.clear();
  for (int c = 0; c < k; ++c) {
    rows.push_back(centres[c].unsqueeze(0) + torch::randn({m, d}));
    labels.insert(labels.end(), static_cast<size_t>(m), c);
  }
  return torch::cat(rows);
}

/// Leave-one-out k-nearest-neighbour accuracy of labels in an embedding.
double knn_accuracy(const torch::Tensor& y, const std::vector<int>& labels, int k) {
  const torch::Tensor d = torch::cdist(y.to(torch::kDouble), y.to(torch::kDouble));
  const int64_t n = y.size(0);
  int correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    torch::Tensor row = d[i].clone();
    row[i] = std::numeric_limits<double>::infinity();
    const torch::Tensor idx = std::get<1>(row.topk(k, 0, /*largest=*/false));
    std::vector<int> votes(8, 0);
    for (int64_t j = 0; j < k; ++j) ++votes[static_cast<size_t>(labels[static_cast<size_t>(idx[j].item<int64_t>())])];
    correct += std::max_element(votes.begin(), votes.end()) - votes.begin() == labels[static_cast<size_t>(i)];
  }
  return static_cast<double>(correct) / n;
}

}  // namespace

TEST_CASE("perplexity calibration reaches the requested entropy", "[viz][tsne]") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 50.0);
  std::vector<double> d(200), p(200);
  for (double& v : d) v = u(rng);
  for (double perplexity : {5.0, 30.0, 50.0}) {
    calibrate_row(d.data(), 200, perplexity, p.data());
    double sum = 0, h = 0;
    for (double v : p) {
      sum += v;
      if (v > 0) h -= v * std::log(v);
    }
    REQUIRE(sum == Approx(1.0));
    REQUIRE(std::exp(h) == Approx(perplexity).epsilon(1e-3));
  }
}

TEST_CASE("Barnes-Hut repulsion with theta = 0 equals the exact sums, theta = 0.5 is close", "[viz][tsne]") {
  std::mt19937 rng(5);
  std::normal_distribution<double> n(0.0, 3.0);
  std::vector<double> y(2 * 400);
  for (double& v : y) v = n(rng);
  std::vector<double> exact, bh0, bh5;
  const double z = tsne_repulsion_exact(y, exact);
  const double z0 = tsne_repulsion_bh(y, 0.0, bh0);
  REQUIRE(z0 == Approx(z).epsilon(1e-10));
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(bh0[i] == Approx(exact[i]).epsilon(1e-9).margin(1e-12));
  const double z5 = tsne_repulsion_bh(y, 0.5, bh5);
  REQUIRE(z5 == Approx(z).epsilon(0.05));  // the reference criterion (half-width / distance < 0.5) is coarse
  double err = 0, norm = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    err += (bh5[i] - exact[i]) * (bh5[i] - exact[i]);
    norm += exact[i] * exact[i];
  }
  REQUIRE(std::sqrt(err / norm) < 0.1);
}

TEST_CASE("affinities are symmetric, sum to one, sparse rows keep 3 * perplexity neighbours", "[viz][tsne]") {
  std::vector<int> labels;
  const torch::Tensor x = clusters(3, 30, 5, 2, labels);
  const TsneAffinities dense = tsne_affinities(x, 10, true);
  double total = 0;
  for (int64_t i = 0; i < dense.n; ++i)
    for (int64_t j = 0; j < dense.n; ++j) {
      total += dense.dense[static_cast<size_t>(i * dense.n + j)];
      REQUIRE(dense.dense[static_cast<size_t>(i * dense.n + j)] ==
              Approx(dense.dense[static_cast<size_t>(j * dense.n + i)]));
    }
  REQUIRE(total == Approx(1.0));
  const TsneAffinities sparse = tsne_affinities(x, 10, false);
  double stotal = 0;
  for (double v : sparse.val) stotal += v;
  REQUIRE(stotal == Approx(1.0));
  for (int64_t i = 0; i < sparse.n; ++i) REQUIRE(sparse.row_start[i + 1] - sparse.row_start[i] >= 30);
}

TEST_CASE("t-SNE keeps well-separated Gaussian clusters apart (exact and Barnes-Hut)", "[viz][tsne]") {
  std::vector<int> labels;
  const torch::Tensor x = clusters(5, 60, 20, 7, labels);  // 300 points in 20-D
  for (auto method : {TsneOptions::Method::kExact, TsneOptions::Method::kBarnesHut}) {
    TsneOptions o;
    o.method = method;
    o.iterations = 500;  // the separation is complete long before bhtsne's 1000
    o.progress = false;
    const TsneResult r = tsne(x, o);
    REQUIRE(r.exact == (method == TsneOptions::Method::kExact));
    REQUIRE(r.embedding.sizes() == torch::IntArrayRef({300, 2}));
    REQUIRE(torch::isfinite(r.embedding).all().item<bool>());
    const double acc = knn_accuracy(r.embedding, labels, 5);
    INFO("method " << (r.exact ? "exact" : "barnes-hut") << " 5-NN accuracy " << acc << " KL " << r.kl);
    REQUIRE(acc >= 0.95);
    if (r.exact) REQUIRE(r.kl < 1.5);
  }
}

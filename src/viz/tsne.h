// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// t-SNE (van der Maaten & Hinton 2008): exact O(N^2) gradients for small sets, Barnes-Hut (van der Maaten 2014)
// beyond, with the reference implementation's (lvdmaaten/bhtsne) optimization schedule.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace detlab {

struct TsneOptions {
  enum class Method { kAuto, kExact, kBarnesHut };
  Method method = Method::kAuto;
  int exact_max = 2000;         // kAuto: exact up to this many points (O(N^2) time and memory per iteration)
  double perplexity = 30;       // effective neighbours (paper: 5-50); lowered to (N - 1) / 3 for tiny sets
  double theta = 0.5;           // Barnes-Hut: a cell of half-width w at distance d is summarized if w / d < theta
  int iterations = 1000;        // bhtsne's max_iter
  double learning_rate = 200;   // bhtsne's eta
  double exaggeration = 12;     // P is multiplied by this for the first exaggeration_iters (bhtsne: 12, 250)
  int exaggeration_iters = 250;
  double momentum = 0.5;        // then final_momentum from iteration momentum_switch on (bhtsne: 0.5, 0.8, 250)
  double final_momentum = 0.8;
  int momentum_switch = 250;
  uint64_t seed = 0;            // the initial layout, N(0, 1e-4^2) as bhtsne's
  bool progress = true;
};

struct TsneResult {
  torch::Tensor embedding;  // N x 2 float32 (CPU), centred
  bool exact = true;        // which gradient was used
  double perplexity = 0;    // the perplexity actually used
  double kl = 0;            // KL(P || Q) of the final layout (exact method; NaN for Barnes-Hut)
};

/// Fewest points tsne() embeds (its perplexity search needs neighbours).
inline constexpr int64_t kTsneMinPoints = 4;

/*  requires: data N x D (float or double), N >= kTsneMinPoints, finite.
    The data are centred and scaled by their largest absolute value (as bhtsne does), so that the perplexity
    search starts in range whatever the feature scale.  */
TsneResult tsne(const torch::Tensor& data, const TsneOptions& opts = {});

/// Sparse symmetric affinities in CSR form (Barnes-Hut) or dense (exact): sum over all entries == 1.
struct TsneAffinities {
  int64_t n = 0;
  std::vector<double> dense;       // n x n, row-major (exact); empty for sparse
  std::vector<int64_t> row_start;  // n + 1 (sparse)
  std::vector<int64_t> col;
  std::vector<double> val;
};

/// Conditional affinities p_{j|i} of one point over candidate squared distances, with the Gaussian precision
/// found by binary search so that the entropy equals log(perplexity) (tolerance 1e-5 nats, 200 steps).
/// ensures: p sums to 1; returns the precision beta.
double calibrate_row(const double* sq_dist, int64_t count, double perplexity, double* p);

/// P from all pairwise distances (exact) or from the 3 * perplexity nearest neighbours (Barnes-Hut).
TsneAffinities tsne_affinities(const torch::Tensor& data, double perplexity, bool exact);

/// The repulsive part of the gradient, sum_j q_ij^2 (y_i - y_j) (q_ij = 1 / (1 + |y_i - y_j|^2)), and
/// Z = sum_{i != j} q_ij: exactly (O(N^2)) or with a Barnes-Hut quadtree (theta = 0 visits every leaf and
/// equals the exact sums up to rounding; tests check this). y: N x 2 row-major. forces: N x 2.
double tsne_repulsion_exact(const std::vector<double>& y, std::vector<double>& forces);
double tsne_repulsion_bh(const std::vector<double>& y, double theta, std::vector<double>& forces);

}  // namespace detlab

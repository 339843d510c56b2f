// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Barnes-Hut repulsion for 2-D t-SNE: a point quadtree with centres of mass (van der Maaten 2014, section 4.2).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "viz/tsne.h"

namespace detlab {

namespace {

constexpr int kMaxDepth = 48;  // below this, coincident points share a leaf instead of splitting forever

struct Node {
  double cx = 0, cy = 0, hw = 0;  // cell centre and half-width (square cells)
  double mx = 0, my = 0;          // centre of mass
  int64_t count = 0;
  int64_t point = -1;             // a leaf's first point (-1: empty)
  int32_t child = -1;             // index of the first of 4 children (-1: leaf)
};

class QuadTree {
 public:
  explicit QuadTree(const std::vector<double>& y) : y_(y) {
    const int64_t n = static_cast<int64_t>(y.size() / 2);
    double mx = 0, my = 0, x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1];
    for (int64_t i = 0; i < n; ++i) {
      mx += y[2 * i];
      my += y[2 * i + 1];
      x0 = std::min(x0, y[2 * i]);
      x1 = std::max(x1, y[2 * i]);
      y0 = std::min(y0, y[2 * i + 1]);
      y1 = std::max(y1, y[2 * i + 1]);
    }
    mx /= n;
    my /= n;
    Node root;
    root.cx = mx;
    root.cy = my;
    // bhtsne's root: centred on the mean, half-width reaching the farthest point, plus a margin.
    root.hw = std::max({x1 - mx, mx - x0, y1 - my, my - y0}) + 1e-5;
    nodes_.reserve(static_cast<size_t>(4 * n + 1));
    nodes_.push_back(root);
    for (int64_t i = 0; i < n; ++i) insert(0, i, 0);
  }

  /// Repulsion on point i: neg += sum q^2 (y_i - y_j), returns sum q (both over summarized cells).
  double repel(int64_t i, double theta, double& fx, double& fy) const { return visit(0, i, theta, fx, fy); }

 private:
  int quadrant(const Node& nd, double px, double py) const { return (px > nd.cx ? 1 : 0) + (py > nd.cy ? 2 : 0); }

  void split(int32_t at) {
    const int32_t first = static_cast<int32_t>(nodes_.size());
    const Node parent = nodes_[static_cast<size_t>(at)];
    for (int q = 0; q < 4; ++q) {
      Node c;
      c.hw = 0.5 * parent.hw;
      c.cx = parent.cx + ((q & 1) ? c.hw : -c.hw);
      c.cy = parent.cy + ((q & 2) ? c.hw : -c.hw);
      nodes_.push_back(c);
    }
    nodes_[static_cast<size_t>(at)].child = first;
  }

  void insert(int32_t at, int64_t i, int depth) {
    const double px = y_[2 * i], py = y_[2 * i + 1];
    for (;;) {
      Node& nd = nodes_[static_cast<size_t>(at)];
      nd.mx = (nd.mx * nd.count + px) / (nd.count + 1);
      nd.my = (nd.my * nd.count + py) / (nd.count + 1);
      ++nd.count;
      if (nd.child < 0) {
        if (nd.point < 0) {
          nd.point = i;
          return;
        }
        const int64_t other = nd.point;
        const bool same = y_[2 * other] == px && y_[2 * other + 1] == py;
        if (same || depth >= kMaxDepth) return;  // counted in the summary; the leaf stands for all of them
        split(at);  // may reallocate nodes_: index again below
        Node& parent = nodes_[static_cast<size_t>(at)];
        parent.point = -1;
        // The resident point moves down with its copies (the count before this insertion); its mass is already
        // in this node's summary.
        Node& dst = nodes_[static_cast<size_t>(parent.child + quadrant(parent, y_[2 * other], y_[2 * other + 1]))];
        dst.point = other;
        dst.count = parent.count - 1;
        dst.mx = y_[2 * other];
        dst.my = y_[2 * other + 1];
      }
      const Node& cur = nodes_[static_cast<size_t>(at)];
      at = cur.child + quadrant(cur, px, py);
      ++depth;
    }
  }

  double visit(int32_t at, int64_t i, double theta, double& fx, double& fy) const {
    const Node& nd = nodes_[static_cast<size_t>(at)];
    if (nd.count == 0) return 0;
    const bool leaf = nd.child < 0;
    if (leaf && nd.count == 1 && nd.point == i) return 0;  // no self-interaction
    const double dx = y_[2 * i] - nd.mx, dy = y_[2 * i + 1] - nd.my;
    const double d2 = dx * dx + dy * dy;
    if (leaf || nd.hw < theta * std::sqrt(d2)) {
      double count = static_cast<double>(nd.count);
      if (leaf && nd.point == i) count -= 1;  // coincident copies of i itself: leave i out
      const double q = 1.0 / (1.0 + d2);
      fx += count * q * q * dx;
      fy += count * q * q * dy;
      return count * q;
    }
    double z = 0;
    for (int q = 0; q < 4; ++q) z += visit(nd.child + q, i, theta, fx, fy);
    return z;
  }

  const std::vector<double>& y_;
  std::vector<Node> nodes_;
};

}  // namespace

double tsne_repulsion_bh(const std::vector<double>& y, double theta, std::vector<double>& forces) {
  const int64_t n = static_cast<int64_t>(y.size() / 2);
  forces.assign(y.size(), 0.0);
  if (n == 0) return 0;
  const QuadTree tree(y);
  std::vector<double> zpart(static_cast<size_t>(n), 0.0);
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      double fx = 0, fy = 0;
      zpart[static_cast<size_t>(i)] = tree.repel(i, theta, fx, fy);
      forces[2 * i] = fx;
      forces[2 * i + 1] = fy;
    }
  });
  double z = 0;
  for (double v : zpart) z += v;
  return z;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search_boxes: ximgproc's process() and hierarchical grouping with a call-local rank generator.
#include "proposals/hierarchical_grouping.h"

#include <stdlib.h>  // random_r, initstate_r (glibc)

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <tuple>

#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc/segmentation.hpp>

#include "core/error.h"

namespace detlab {

namespace {

namespace seg = cv::ximgproc::segmentation;

/// glibc's rand() after srand(seed) (TYPE_3 additive feedback, 128-byte state), on a state of its own.
class LocalRand {
 public:
  explicit LocalRand(uint32_t seed) {
    std::memset(&data_, 0, sizeof data_);  // initstate_r reads data_.state before setting it
    initstate_r(seed, state_, sizeof state_, &data_);
  }
  int32_t operator()() {
    int32_t r = 0;
    random_r(&data_, &r);
    return r;
  }

 private:
  char state_[128];
  random_data data_;
};

struct Region {
  int id;         // the segment id the strategies know it by (the smallest of the merged ones)
  int level;      // 1 for segments, max of the merged + 1
  int merged_to;  // index of the region it was merged into, -1 while alive
  double rank;
  cv::Rect box;
  bool operator<(const Region& o) const { return rank < o.rank; }
};

struct Neighbour {
  int from, to;  // region indices
  float similarity;
  bool operator<(const Neighbour& o) const { return similarity < o.similarity; }
};

/// ximgproc's rectComparator: x, y, width, height.
struct RectLess {
  bool operator()(const cv::Rect& a, const cv::Rect& b) const {
    return std::tie(a.x, a.y, a.width, a.height) < std::tie(b.x, b.y, b.width, b.height);
  }
};

/// Greedy merging of the most similar neighbours until one region is left; every region gets its rank.
/// The order of operations is ximgproc's (full re-sort of the similarities before each merge), which fixes
/// which of two equally similar pairs merges first.
std::vector<Region> group(const cv::Mat& img, seg::SelectiveSearchSegmentationStrategy& s, const cv::Mat& labels,
                          const cv::Mat& is_neighbour, const cv::Mat& segment_sizes, int nb_segs,
                          const std::vector<cv::Rect>& boxes, int image_id, LocalRand& rand) {
  // The strategies keep this Mat and read the merged sizes from it.
  cv::Mat sizes = segment_sizes.clone();
  std::vector<Neighbour> similarities;
  std::vector<Region> regions;
  s.setImage(img, labels, sizes, image_id);
  for (int i = 0; i < nb_segs; ++i) {
    regions.push_back({i, 1, -1, 0., boxes[i]});
    for (int j = i + 1; j < nb_segs; ++j)
      if (is_neighbour.at<uchar>(i, j)) similarities.push_back({i, j, s.get(i, j)});
  }
  while (!similarities.empty()) {
    std::sort(similarities.begin(), similarities.end());
    const Neighbour p = similarities.back();
    similarities.pop_back();
    const Region from = regions[p.from], to = regions[p.to];
    regions.push_back({std::min(from.id, to.id), std::max(from.level, to.level) + 1, -1, 0., from.box | to.box});
    const int merged = static_cast<int>(regions.size()) - 1;
    regions[p.from].merged_to = merged;
    regions[p.to].merged_to = merged;
    s.merge(from.id, to.id);
    sizes.at<int>(from.id, 0) += sizes.at<int>(to.id, 0);
    sizes.at<int>(to.id, 0) = sizes.at<int>(from.id, 0);

    std::vector<int> local;  // the merged pair's other neighbours, in the order they are met
    for (auto it = similarities.begin(); it != similarities.end();) {
      if (it->from == p.from || it->to == p.from || it->from == p.to || it->to == p.to) {
        const int other = (it->from == p.from || it->from == p.to) ? it->to : it->from;
        if (std::find(local.begin(), local.end(), other) == local.end()) local.push_back(other);
        it = similarities.erase(it);
      } else {
        ++it;
      }
    }
    for (int n : local) similarities.push_back({merged, n, s.get(regions[merged].id, regions[n].id)});
  }
  // Uijlings et al. rank by level times a random number in [0, 1] (ximgproc: lower first).
  for (Region& r : regions) r.rank = (static_cast<double>(rand()) / RAND_MAX) * r.level;
  return regions;
}

struct Setup {
  std::vector<cv::Mat> images;  // color spaces
  std::vector<cv::Ptr<seg::GraphSegmentation>> segmentations;
  std::vector<cv::Ptr<seg::SelectiveSearchSegmentationStrategy>> strategies;
};

cv::Ptr<seg::GraphSegmentation> segmentation(int k, float sigma) {
  cv::Ptr<seg::GraphSegmentation> g = seg::createGraphSegmentation();
  g->setK(static_cast<float>(k));
  g->setSigma(sigma);
  return g;
}

/// The presets of ximgproc's switchTo*(), object for object: in fast and quality mode its second multiple
/// strategy shares the fill / texture / size objects of the first (ximgproc creates fresh ones and does not use
/// them), which matters because strategies cache per image id.
Setup setup(const cv::Mat& bgr, const GroupingStrategy& o) {
  Setup s;
  cv::Mat hsv, lab;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  s.images.push_back(hsv);
  const auto color = seg::createSelectiveSearchSegmentationStrategyColor();
  const auto fill = seg::createSelectiveSearchSegmentationStrategyFill();
  const auto texture = seg::createSelectiveSearchSegmentationStrategyTexture();
  const auto size = seg::createSelectiveSearchSegmentationStrategySize();
  s.strategies.push_back(seg::createSelectiveSearchSegmentationStrategyMultiple(color, fill, texture, size));
  if (o.mode == GroupingStrategy::Mode::kSingle) {
    s.segmentations.push_back(segmentation(o.base_k, o.sigma));
    return s;
  }
  cv::cvtColor(bgr, lab, cv::COLOR_BGR2Lab);
  s.images.push_back(lab);
  s.strategies.push_back(seg::createSelectiveSearchSegmentationStrategyMultiple(fill, texture, size));
  const int levels = o.mode == GroupingStrategy::Mode::kFast ? 2 : 4;
  for (int k = o.base_k; k <= o.base_k + o.inc_k * levels; k += o.inc_k) s.segmentations.push_back(segmentation(k, o.sigma));
  if (o.mode == GroupingStrategy::Mode::kQuality) {
    cv::Mat gray, bgr_planes[3], rgi;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    s.images.push_back(gray);
    // The paper's hue channel, as ximgproc meant it; but ximgproc splits the BGR image into the same Mat array
    // right after adding the hue plane, and cv::split reuses the buffer: the image it segments is the blue
    // channel. Kept so that the boxes are ximgproc's.
    cv::split(bgr, bgr_planes);
    s.images.push_back(bgr_planes[0]);
    cv::merge(std::vector<cv::Mat>{bgr_planes[2], bgr_planes[1], gray}, rgi);
    s.images.push_back(rgi);
    s.strategies.push_back(seg::createSelectiveSearchSegmentationStrategyFill());
    s.strategies.push_back(seg::createSelectiveSearchSegmentationStrategySize());
  }
  return s;
}

}  // namespace

std::vector<cv::Rect> selective_search_boxes(const cv::Mat& bgr, const GroupingStrategy& strategy, uint32_t seed) {
  DETLAB_REQUIRE(!bgr.empty() && bgr.type() == CV_8UC3, "selective search needs a CV_8UC3 image", bgr.type());
  Setup s = setup(bgr, strategy);
  LocalRand rand(seed);
  std::vector<Region> all;
  int image_id = 0;
  for (const cv::Mat& image : s.images) {
    for (const auto& gs : s.segmentations) {
      cv::Mat labels;
      gs->processImage(image, labels);
      double lo = 0, hi = 0;
      cv::minMaxLoc(labels, &lo, &hi);
      const int nb_segs = static_cast<int>(hi) + 1;
      // Bounding boxes, sizes and 8-connected adjacency of the segments.
      std::vector<int> x0(nb_segs, INT32_MAX), y0(nb_segs, INT32_MAX), x1(nb_segs, -1), y1(nb_segs, -1);
      cv::Mat sizes = cv::Mat::zeros(nb_segs, 1, CV_32SC1);
      cv::Mat is_neighbour = cv::Mat::zeros(nb_segs, nb_segs, CV_8UC1);
      for (int i = 0; i < labels.rows; ++i) {
        const int* p = labels.ptr<int>(i);
        const int* prev = i > 0 ? labels.ptr<int>(i - 1) : nullptr;
        for (int j = 0; j < labels.cols; ++j) {
          const int l = p[j];
          x0[l] = std::min(x0[l], j), y0[l] = std::min(y0[l], i), x1[l] = std::max(x1[l], j), y1[l] = std::max(y1[l], i);
          ++sizes.at<int>(l, 0);
          if (i > 0 && j > 0)
            for (int m : {p[j - 1], prev[j], prev[j - 1]}) is_neighbour.at<uchar>(l, m) = is_neighbour.at<uchar>(m, l) = 1;
        }
      }
      std::vector<cv::Rect> boxes(nb_segs);
      for (int l = 0; l < nb_segs; ++l) boxes[l] = cv::Rect(x0[l], y0[l], x1[l] - x0[l] + 1, y1[l] - y0[l] + 1);
      for (const auto& strat : s.strategies) {
        const std::vector<Region> r = group(image, *strat, labels, is_neighbour, sizes, nb_segs, boxes, image_id, rand);
        all.insert(all.end(), r.begin(), r.end());
      }
      ++image_id;
    }
  }
  std::sort(all.begin(), all.end());
  std::map<cv::Rect, char, RectLess> seen;
  std::vector<cv::Rect> out;
  for (const Region& r : all)
    if (seen.emplace(r.box, 1).second) out.push_back(r.box);
  return out;
}

}  // namespace detlab

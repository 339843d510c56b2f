// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Positives, random negatives and hard-negative mining passes over a RegionSource.
#include "classifiers/hard_negative_mining.h"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <random>

#include "core/box_ops.h"
#include "config/checked.h"
#include "core/error.h"
#include "pipeline/host_box_coder.h"

namespace detlab {

namespace {

/// What one image contributes to one class in a pass (merged in image order, so results do not depend on
/// the thread count).
struct ImageClassPart {
  std::vector<std::vector<float>> positives;
  std::vector<std::pair<int, std::vector<float>>> negatives;  // (proposal index, features)
  std::vector<std::vector<float>> reg_features;
  std::vector<std::array<float, 4>> reg_targets;
};

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
  uint64_t h = seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full);
  h ^= h >> 31;
  return h * 0x94D049BB133111EBull;
}

std::vector<float> row_of(const RegionFeatures& f, int i, int dim) {
  const float* p = f.host.ptr<float>(i);
  return std::vector<float>(p, p + dim);
}

/// Appends rows to a CV_32F matrix of `dim` columns.
void append_rows(cv::Mat& m, const std::vector<std::vector<float>>& rows, int dim) {
  if (rows.empty()) return;
  cv::Mat add(static_cast<int>(rows.size()), dim, CV_32F);
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), add.ptr<float>(static_cast<int>(i)));
  if (m.empty())
    m = add;
  else
    cv::vconcat(m, add, m);
}

/// Max IoU of each proposal with the ground truth of class c (all objects, difficult ones included, so
/// that they are never negatives), and the index of the best object.
void overlaps(const Proposals& props, const ImageRecord& rec, int c, std::vector<float>& best,
              std::vector<int>& arg) {
  best.assign(props.size(), 0.f);
  arg.assign(props.size(), -1);
  for (size_t o = 0; o < rec.objects.size(); ++o) {
    if (rec.objects[o].label != c) continue;
    for (size_t i = 0; i < props.size(); ++i) {
      const float v = iou(props[i].box, rec.objects[o].box);
      if (v > best[i]) best[i] = v, arg[i] = static_cast<int>(o);
    }
  }
}

std::vector<int> all_images(RegionSource& source) {
  std::vector<int> v(source.num_images());
  std::iota(v.begin(), v.end(), 0);
  return v;
}

}  // namespace

MiningOptions parse_mining(const Config& node) {
  MiningOptions o;
  const auto at_least = [&](const char* key, int fallback, int min) {
    return static_cast<int>(get_at_least(node, key, fallback, min));
  };
  o.rounds = at_least("rounds", o.rounds, 0);
  o.negative_iou = static_cast<float>(get_real(node, "negative_iou", o.negative_iou, {0.0, 1.0, true}));
  o.initial_negatives_per_image = at_least("initial_negatives_per_image", o.initial_negatives_per_image, 1);
  o.hard_negatives_per_image = at_least("hard_negatives_per_image", o.hard_negatives_per_image, 1);
  o.hard_margin = static_cast<float>(get_real(node, "hard_margin", o.hard_margin, {-kUnbounded, kUnbounded}));
  o.max_negatives = at_least("max_negatives", o.max_negatives, 1);
  o.max_positives = at_least("max_positives", o.max_positives, 0);
  o.max_images = at_least("max_images", o.max_images, 0);
  o.positive_iou = static_cast<float>(get_real(node, "positive_iou", o.positive_iou, {0.0, 1.0}));  // 0 = off
  if (o.positive_iou > 0.f && o.positive_iou <= o.negative_iou)
    config_error(node, "positive_iou", "must be above negative_iou (a region cannot be both)");
  o.positives_per_object = at_least("positives_per_object", o.positives_per_object, 1);
  return o;
}

std::vector<ClassSamples> collect_initial_samples(RegionSource& source, const MiningOptions& opts, uint64_t seed) {
  const int k = source.num_classes();
  std::vector<int> groups(k);
  int num_groups = 1;
  for (int c = 0; c < k; ++c) num_groups = std::max(num_groups, (groups[c] = source.group_of_class(c)) + 1);
  std::vector<std::vector<ImageClassPart>> parts(source.num_images(), std::vector<ImageClassPart>(k));
  std::vector<int> dims(k, 0);
  std::mutex dims_mutex;

  source.for_each(all_images(source), "positives + random negatives", [&](TrainingImage& img) {
    std::vector<ImageClassPart>& out = parts[img.index()];
    const ImageRecord& rec = img.record();
    // Positives: every usable ground-truth box, described in its class's window.
    Proposals boxes;
    std::vector<int> box_groups, box_labels;
    for (const Object& o : rec.objects) {
      if (o.difficult || o.crowd || o.box.width() <= 0 || o.box.height() <= 0) continue;
      boxes.push_back({o.box, 1.f});
      box_groups.push_back(groups[o.label]);
      box_labels.push_back(o.label);
    }
    if (!boxes.empty()) {
      const RegionFeatures f = img.features_as(boxes, box_groups);
      for (size_t i = 0; i < boxes.size(); ++i) {
        const int c = box_labels[i];
        out[c].positives.push_back(row_of(f, static_cast<int>(i), f.dim(groups[c])));
      }
    }
    // Random negatives: sample proposals, describe only those, keep the ones in each class's group.
    const Proposals& props = img.proposals();
    if (props.empty()) return;
    std::mt19937_64 rng(mix(seed, 0, img.index()));
    std::vector<int> order(props.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    // Oversample by 2 x groups so that every group is likely to receive its quota.
    order.resize(std::min<size_t>(order.size(), static_cast<size_t>(2 * num_groups * opts.initial_negatives_per_image)));
    Proposals sample;
    for (int i : order) sample.push_back(props[i]);
    const RegionFeatures f = img.features(sample);
    for (int c = 0; c < k; ++c) {
      std::vector<float> best;
      std::vector<int> arg;
      overlaps(sample, rec, c, best, arg);
      for (size_t i = 0; i < sample.size(); ++i) {
        if (static_cast<int>(out[c].negatives.size()) >= opts.initial_negatives_per_image) break;
        if (f.group(static_cast<int>(i)) != groups[c] || best[i] >= opts.negative_iou) continue;
        out[c].negatives.emplace_back(order[i], row_of(f, static_cast<int>(i), f.dim(groups[c])));
      }
      std::lock_guard<std::mutex> lock(dims_mutex);
      dims[c] = f.dim(groups[c]);
    }
    if (opts.positive_iou <= 0.f) return;
    // Jittered positives: proposals overlapping an object by positive_iou or more, described exactly as at
    // detection time (no warp), a few per object.
    Proposals near;
    std::vector<std::pair<int, int>> near_of;  // (class, object)
    for (int c = 0; c < k; ++c) {
      std::vector<float> best;
      std::vector<int> arg;
      overlaps(props, rec, c, best, arg);
      std::vector<std::vector<int>> per_object(rec.objects.size());
      for (size_t i = 0; i < props.size(); ++i)
        if (arg[i] >= 0 && best[i] >= opts.positive_iou && !rec.objects[arg[i]].difficult) per_object[arg[i]].push_back(int(i));
      for (size_t o = 0; o < per_object.size(); ++o) {
        std::shuffle(per_object[o].begin(), per_object[o].end(), rng);
        // Twice the quota: some candidates may fall in another class's feature group.
        for (size_t j = 0; j < per_object[o].size() && j < size_t(2 * opts.positives_per_object); ++j) {
          near.push_back(props[per_object[o][j]]);
          near_of.push_back({c, static_cast<int>(o)});
        }
      }
    }
    if (near.empty()) return;
    const RegionFeatures fn = img.features(near);
    std::vector<int> taken(rec.objects.size(), 0);
    for (size_t i = 0; i < near.size(); ++i) {
      const auto [c, o] = near_of[i];
      if (fn.group(static_cast<int>(i)) != groups[c] || taken[o] >= opts.positives_per_object) continue;
      ++taken[o];
      out[c].positives.push_back(row_of(fn, static_cast<int>(i), fn.dim(groups[c])));
    }
  });

  std::vector<ClassSamples> samples(k);
  for (int c = 0; c < k; ++c) {
    ClassSamples& s = samples[c];
    s.group = groups[c];
    std::vector<std::vector<float>> pos, neg;
    for (int i = 0; i < source.num_images(); ++i) {
      for (auto& p : parts[i][c].positives) pos.push_back(std::move(p));
      for (auto& [idx, v] : parts[i][c].negatives) {
        s.negative_keys.insert({i, idx});
        neg.push_back(std::move(v));
      }
    }
    if (!pos.empty()) s.dim = static_cast<int>(pos.front().size());
    if (!neg.empty()) s.dim = static_cast<int>(neg.front().size());
    if (s.dim == 0) s.dim = dims[c];
    if (opts.max_positives > 0 && static_cast<int>(pos.size()) > opts.max_positives) {
      std::mt19937_64 rng(mix(seed, 1, c));
      std::shuffle(pos.begin(), pos.end(), rng);
      pos.resize(opts.max_positives);
    }
    append_rows(s.positives, pos, s.dim);
    append_rows(s.negatives, neg, s.dim);
  }
  return samples;
}

std::vector<int> mine_hard_negatives(RegionSource& source, const MiningOptions& opts, const ClassScorer& score,
                                     int round, uint64_t seed, std::vector<ClassSamples>& samples,
                                     const BoxRegressionOptions* regression) {
  const int k = source.num_classes();
  DETLAB_REQUIRE(static_cast<int>(samples.size()) == k, "one ClassSamples per class", samples.size(), k);
  std::vector<int> images = all_images(source);
  if (opts.max_images > 0 && static_cast<int>(images.size()) > opts.max_images) {
    std::mt19937_64 rng(mix(seed, 2, round));
    std::shuffle(images.begin(), images.end(), rng);
    images.resize(opts.max_images);
    std::sort(images.begin(), images.end());
  }
  const int reg_per_image =
      regression ? std::max(1, regression->max_samples / std::max<int>(1, static_cast<int>(images.size()))) : 0;
  std::vector<std::vector<ImageClassPart>> parts(source.num_images(), std::vector<ImageClassPart>(k));
  HostBoxCoder coder;  // weights 1: the regressors predict raw R-CNN deltas

  source.for_each(images, "mining round " + std::to_string(round), [&](TrainingImage& img) {
    const Proposals& props = img.proposals();
    if (props.empty()) return;
    const RegionFeatures f = img.features(props);
    const ImageRecord& rec = img.record();
    std::mt19937_64 rng(mix(seed, 3 + round, img.index()));
    for (int c = 0; c < k; ++c) {
      ImageClassPart& out = parts[img.index()][c];
      const ClassSamples& s = samples[c];
      std::vector<float> best;
      std::vector<int> arg;
      overlaps(props, rec, c, best, arg);
      std::vector<std::pair<float, int>> hard;
      std::vector<int> reg_rows;
      const cv::Mat scores = score(c, f.host.colRange(0, s.dim));
      for (int i = 0; i < f.rows(); ++i) {
        if (f.group(i) != s.group) continue;
        if (best[i] < opts.negative_iou) {
          const float v = scores.at<float>(i);
          if (v > opts.hard_margin && !s.negative_keys.count({img.index(), i})) hard.push_back({v, i});
        } else if (regression && best[i] >= regression->min_iou && props[i].box.width() > 0 &&
                   props[i].box.height() > 0) {
          reg_rows.push_back(i);
        }
      }
      std::sort(hard.begin(), hard.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
      });
      if (static_cast<int>(hard.size()) > opts.hard_negatives_per_image) hard.resize(opts.hard_negatives_per_image);
      for (const auto& [v, i] : hard) out.negatives.emplace_back(i, row_of(f, i, s.dim));
      if (static_cast<int>(reg_rows.size()) > reg_per_image) {
        std::shuffle(reg_rows.begin(), reg_rows.end(), rng);
        reg_rows.resize(reg_per_image);
      }
      for (int i : reg_rows) {
        out.reg_features.push_back(row_of(f, i, s.dim));
        out.reg_targets.push_back(coder.encode(props[i].box, rec.objects[arg[i]].box));
      }
    }
  });

  std::vector<int> added(k, 0);
  for (int c = 0; c < k; ++c) {
    ClassSamples& s = samples[c];
    std::vector<std::vector<float>> neg, reg;
    std::vector<std::vector<float>> targets;
    for (int i : images) {
      for (auto& [idx, v] : parts[i][c].negatives) {
        if (!s.negative_keys.insert({i, idx}).second) continue;
        neg.push_back(std::move(v));
      }
      for (auto& v : parts[i][c].reg_features) reg.push_back(std::move(v));
      for (const auto& t : parts[i][c].reg_targets) targets.push_back({t[0], t[1], t[2], t[3]});
    }
    added[c] = static_cast<int>(neg.size());
    append_rows(s.negatives, neg, s.dim);
    if (regression) {
      s.reg_features.release();
      s.reg_targets.release();
      append_rows(s.reg_features, reg, s.dim);
      append_rows(s.reg_targets, targets, 4);
    }
  }
  prune_negatives(opts, score, samples);
  return added;
}

void prune_negatives(const MiningOptions& opts, const ClassScorer& score, std::vector<ClassSamples>& samples) {
  for (size_t c = 0; c < samples.size(); ++c) {
    ClassSamples& s = samples[c];
    if (s.negatives.rows <= opts.max_negatives) continue;
    std::vector<std::pair<float, int>> by_score(s.negatives.rows);
    const cv::Mat scores = score(static_cast<int>(c), s.negatives);
    for (int i = 0; i < s.negatives.rows; ++i) by_score[i] = {scores.at<float>(i), i};
    std::stable_sort(by_score.begin(), by_score.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    cv::Mat kept(opts.max_negatives, s.dim, CV_32F);
    for (int i = 0; i < opts.max_negatives; ++i) s.negatives.row(by_score[i].second).copyTo(kept.row(i));
    s.negatives = kept;
  }
}

}  // namespace detlab

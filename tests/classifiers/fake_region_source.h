// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A RegionSource whose "features" are computed from the boxes themselves, so that classifier training can be
// tested without images: for class c, feature c is the box's best IoU with a ground truth of class c.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/box_ops.h"
#include "pipeline/host_box_coder.h"
#include "pipeline/training.h"

namespace detlab::test {

/// Features of a box (D = 2K + 6): [best IoU per class (K), 1 - that (K), the R-CNN deltas from the box to the
/// best-overlapping object (4), a deterministic pseudo-random value, a constant]. Two feature groups when
/// two_groups: boxes wider than tall are group 1 (their rows carry the same features).
class FakeRegionSource final : public RegionSource {
 public:
  FakeRegionSource(int num_images, int num_classes, bool two_groups = false)
      : two_groups_(two_groups) {
    for (int c = 0; c < num_classes; ++c) names_.push_back("class" + std::to_string(c));
    for (int i = 0; i < num_images; ++i) {
      ImageRecord r;
      r.id = i + 1;
      r.name = "fake" + std::to_string(i);
      r.width = r.height = 100;
      for (int c = 0; c < num_classes; ++c) {
        const float x = static_cast<float>((17 * i + 31 * c) % 50), y = static_cast<float>((23 * i + 11 * c) % 50);
        const float w = two_groups && c == 1 ? 40.f : 30.f, h = 30.f;
        r.objects.push_back({{x, y, x + w, y + h}, c});
      }
      records_.push_back(r);
    }
  }

  int dim() const { return 2 * num_classes() + 6; }
  int num_images() const override { return static_cast<int>(records_.size()); }
  const std::vector<std::string>& class_names() const override { return names_; }
  int group_of_class(int c) const override { return two_groups_ && c == 1 ? 1 : 0; }

  /// Candidate boxes of an image: a 10-px grid of 30 x 30 boxes (and 40 x 30 with two groups), plus boxes
  /// around every object.
  Proposals proposals_of(int i) const {
    Proposals p;
    for (int y = 0; y + 30 <= 100; y += 10)
      for (int x = 0; x + 30 <= 100; x += 10) {
        p.push_back({{float(x), float(y), float(x + 30), float(y + 30)}, 0.f});
        if (two_groups_ && x + 40 <= 100) p.push_back({{float(x), float(y), float(x + 40), float(y + 30)}, 0.f});
      }
    for (const Object& o : records_[i].objects)
      for (float d : {-3.f, 3.f}) p.push_back({{o.box.x1 + d, o.box.y1 - d, o.box.x2 + d, o.box.y2}, 0.f});
    return p;
  }

  RegionFeatures describe(int i, const Proposals& boxes, const std::vector<int>* groups) const {
    RegionFeatures f;
    const int k = num_classes();
    f.host = cv::Mat::zeros(static_cast<int>(boxes.size()), dim(), CV_32F);
    for (size_t r = 0; r < boxes.size(); ++r) {
      float* row = f.host.ptr<float>(static_cast<int>(r));
      float best_any = -1;
      int best_obj = -1;
      for (size_t o = 0; o < records_[i].objects.size(); ++o) {
        const Object& obj = records_[i].objects[o];
        const float v = iou(boxes[r].box, obj.box);
        row[obj.label] = std::max(row[obj.label], v);
        if (v > best_any) best_any = v, best_obj = static_cast<int>(o);
      }
      for (int c = 0; c < k; ++c) row[k + c] = 1.f - row[c];
      if (best_obj >= 0 && boxes[r].box.width() > 0 && boxes[r].box.height() > 0) {
        const auto d = HostBoxCoder{}.encode(boxes[r].box, records_[i].objects[best_obj].box);
        for (int q = 0; q < 4; ++q) row[2 * k + q] = d[q];
      }
      row[2 * k + 4] = static_cast<float>((r * 2654435761u + i * 40503u) % 1000) / 1000.f;
      row[2 * k + 5] = 1.f;
    }
    if (two_groups_) {
      f.group_dims = {dim(), dim()};
      for (size_t r = 0; r < boxes.size(); ++r)
        f.groups.push_back(groups ? (*groups)[r] : (boxes[r].box.width() > boxes[r].box.height() ? 1 : 0));
    }
    return f;
  }

  void for_each(const std::vector<int>& images, const std::string& label,
                const std::function<void(TrainingImage&)>& fn) override {
    ++passes;
    for (int i : images) {
      Image img(*this, i);
      fn(img);
    }
  }

  int passes = 0;

 private:
  class Image final : public TrainingImage {
   public:
    Image(const FakeRegionSource& s, int i) : s_(s), i_(i), props_(s.proposals_of(i)) {}
    int index() const override { return i_; }
    const ImageRecord& record() const override { return s_.records_[i_]; }
    const ImageContext& context() const override { return ctx_; }
    const Proposals& proposals() override { return props_; }
    RegionFeatures features(const Proposals& r) override { return s_.describe(i_, r, nullptr); }
    RegionFeatures features_as(const Proposals& r, const std::vector<int>& g) override {
      return s_.describe(i_, r, &g);
    }

   private:
    const FakeRegionSource& s_;
    int i_;
    Proposals props_;
    ImageContext ctx_;
  };

  bool two_groups_;
  std::vector<std::string> names_;
  std::vector<ImageRecord> records_;
};

}  // namespace detlab::test

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Faster R-CNN detections as targets: the box head's softmax probability of the detection's class for the fixed
// proposal it was refined from (the RPN is not re-run when the input changes).
#include <torch/nn/module.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "nn/detection/faster_rcnn.h"
#include "nn/ops/boxes.h"
#include "viz/detection_families.h"

namespace detlab::detail {

namespace {

class FasterRcnnExplainer : public DetectionExplainer {
 public:
  FasterRcnnExplainer(std::shared_ptr<FasterRCNN> model, TransformOptions transform,
                      std::vector<std::string> class_names, torch::Device device)
      : DetectionExplainer(std::move(transform), std::move(class_names), device,
                           features_by_stride(model->backbone->output_shape())),
        model_(std::move(model)) {}

  std::string family() const override { return "faster_rcnn"; }
  TapMap features(const torch::Tensor& input) override { return model_->features(input); }
  torch::nn::Module& module() override { return *model_; }

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const std::vector<ImageSize> sizes{{in.meta.height, in.meta.width}};
    const auto maps = model_->features(in.tensor);
    const torch::Tensor proposals = model_->propose(in.tensor, maps, sizes).boxes.at(0);
    auto [logits, deltas] = model_->roi_heads->predict(maps, in.tensor, {proposals}, sizes);
    const NetDetections dets = model_->roi_heads->postprocess(logits, deltas, {proposals}, sizes)[0];  // columns
    const torch::Tensor probs = torch::softmax(logits, -1);
    const int64_t columns = probs.size(1);
    torch::Tensor boxes;  // P x C x 4 candidates, as postprocess decodes and clips them
    if (deltas.defined()) {
      boxes = model_->roi_heads->box_coder().decode_single(deltas, proposals).view({-1, columns, 4});
    } else {
      boxes = proposals.unsqueeze(1).expand({-1, columns, 4});
    }
    boxes = clip_boxes_to_image(boxes.reshape({-1, 4}), sizes[0][0], sizes[0][1]).view({-1, columns, 4});
    const std::vector<int64_t>& label_map = model_->label_map();
    auto label_of = [&](int64_t column) {
      const auto it = std::find(label_map.begin(), label_map.end(), column);
      return it == label_map.end() ? -1 : static_cast<int>(it - label_map.begin());
    };
    return explain(dets, in.meta, label_of, [&](ExplainedDetection& d, int64_t column) {
      d.index = match_candidate(boxes.select(1, column), probs.select(1, column), d.box, d.score);
      d.proposal = proposals.narrow(0, d.index, 1).clone();
      d.level = level_of(maps, d.proposal, sizes[0]);
    });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    auto m = model_->features(input);
    if (maps) *maps = m;
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    const int64_t n = input.size(0);
    const std::vector<torch::Tensor> boxes(static_cast<size_t>(n), target->proposal.to(input.device(), input.scalar_type()));
    const std::vector<ImageSize> sizes(static_cast<size_t>(n), ImageSize{target->image_height, target->image_width});
    const torch::Tensor logits = model_->roi_heads->predict(m, input, boxes, sizes).first;  // N x C
    const int64_t column = model_->label_map().at(static_cast<size_t>(target->label));
    return torch::softmax(logits, -1).select(1, column).unsqueeze(1);
  }

 private:
  /// The map the box head pools this proposal from: MultiScaleRoIAlign's LevelMapper, or a one-map pooler's map.
  int level_of(const std::map<std::string, torch::Tensor>& maps, const torch::Tensor& proposal,
               const ImageSize& size) const {
    const std::vector<std::string> names = model_->roi_heads->box_roi_pool->featmap_names();
    std::string name = names.empty() ? layers().back() : names.front();
    auto* msra = dynamic_cast<MultiScaleRoiAlign*>(model_->roi_heads->box_roi_pool.get());
    if (msra && names.size() > 1) {
      // torchvision infers each map's scale from its height and the largest image height of the batch.
      const double s0 = infer_scale(maps.at(names.front()).size(2), size[0]);
      const double s1 = infer_scale(maps.at(names.back()).size(2), size[0]);
      const int64_t k_min = static_cast<int64_t>(std::lround(-std::log2(s0)));
      const int64_t k_max = static_cast<int64_t>(std::lround(-std::log2(s1)));
      const int64_t lvl = map_levels(proposal.to(torch::kCPU, torch::kFloat), k_min, k_max,
                                     msra->options().canonical_scale, msra->options().canonical_level)[0]
                              .item<int64_t>();
      name = names.at(static_cast<size_t>(lvl));
    }
    const std::vector<std::string> all = layers();
    const auto it = std::find(all.begin(), all.end(), name);
    return it == all.end() ? static_cast<int>(all.size()) - 1 : static_cast<int>(it - all.begin());
  }

  std::shared_ptr<FasterRCNN> model_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_faster_rcnn_explainer(const std::shared_ptr<DetectionModel>& model,
                                                               const TransformOptions& transform,
                                                               const std::vector<std::string>& class_names,
                                                               torch::Device device) {
  auto m = std::dynamic_pointer_cast<FasterRCNN>(model);
  // R-CNN / Fast R-CNN compositions without an RPN or a backbone map have no proposal layer to re-run here.
  if (!m || !m->backbone || m->rpn.is_empty() || m->roi_heads.is_empty() || m->backbone->output_shape().empty())
    return nullptr;
  return std::make_unique<FasterRcnnExplainer>(m, transform, class_names, device);
}

}  // namespace detlab::detail

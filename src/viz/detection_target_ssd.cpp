// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD detections as targets: the softmax probability of the detection's class at one default box.
#include <torch/nn/module.h>

#include "core/error.h"
#include "nn/detection/ssd.h"
#include "nn/ops/boxes.h"
#include "viz/detection_families.h"

namespace detlab::detail {

namespace {

class SsdExplainer : public DetectionExplainer {
 public:
  SsdExplainer(std::shared_ptr<Ssd> model, TransformOptions transform, std::vector<std::string> class_names,
               torch::Device device)
      : DetectionExplainer(std::move(transform), std::move(class_names), device,
                           features_by_stride(model->backbone()->output_shape())),
        model_(std::move(model)), coder_(model_->options().box_weights) {}

  std::string family() const override { return "ssd"; }
  TapMap features(const torch::Tensor& input) override { return model_->backbone()->forward(input); }
  torch::nn::Module& module() override { return *model_; }

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const Ssd::Outputs out = model_->forward(in.tensor);
    const ImageSize size{in.meta.height, in.meta.width};
    const NetDetections dets = model_->postprocess(out, {size})[0];  // labels 1..K (column 0 = background)
    const torch::Tensor boxes =
        clip_boxes_to_image(coder_.decode_single(out.head.bbox_regression[0], out.anchors), size[0], size[1]);
    const torch::Tensor probs = torch::softmax(out.head.cls_logits[0], -1);
    // Default boxes are concatenated level by level: H_l * W_l * boxes-per-location(l) each.
    std::vector<int64_t> level_start{0};
    const std::vector<int64_t> per_loc = model_->anchor_generator().num_anchors_per_location();
    for (size_t l = 0; l < out.features.size(); ++l)
      level_start.push_back(level_start.back() + out.features[l].size(2) * out.features[l].size(3) * per_loc.at(l));
    TORCH_CHECK(level_start.back() == boxes.size(0), "SSD: ", level_start.back(), " default boxes by level, ",
                boxes.size(0), " in total");
    return explain(
        dets, in.meta, [](int64_t column) { return static_cast<int>(column - 1); },
        [&](ExplainedDetection& d, int64_t column) {
          d.index = match_candidate(boxes, probs.select(1, column), d.box, d.score);
          d.level = static_cast<int>(std::upper_bound(level_start.begin(), level_start.end(), d.index) -
                                     level_start.begin() - 1);
        });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    const Ssd::Outputs out = model_->forward(input);
    if (maps)
      for (size_t l = 0; l < out.features.size(); ++l) (*maps)[layers()[l]] = out.features[l];
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    // index is the default box in the concatenated list (the head's output order).
    const torch::Tensor logits = out.head.cls_logits.select(1, target->index);  // N x (K + 1)
    return torch::softmax(logits, -1).select(1, target->label + 1).unsqueeze(1);
  }

 private:
  std::shared_ptr<Ssd> model_;
  BoxCoder coder_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_ssd_explainer(const std::shared_ptr<DetectionModel>& model,
                                                       const TransformOptions& transform,
                                                       const std::vector<std::string>& class_names,
                                                       torch::Device device) {
  auto m = std::dynamic_pointer_cast<Ssd>(model);
  if (!m) return nullptr;
  return std::make_unique<SsdExplainer>(m, transform, class_names, device);
}

}  // namespace detlab::detail

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNet detections as targets: the sigmoid class score at one anchor of one FPN level.
#include <torch/nn/module.h>

#include "core/error.h"
#include "nn/detection/retinanet.h"
#include "nn/ops/boxes.h"
#include "viz/detection_families.h"

namespace detlab::detail {

namespace {

class RetinaNetExplainer : public DetectionExplainer {
 public:
  RetinaNetExplainer(std::shared_ptr<RetinaNet> model, TransformOptions transform,
                     std::vector<std::string> class_names, torch::Device device)
      : DetectionExplainer(std::move(transform), std::move(class_names), device,
                           features_by_stride(model->backbone()->output_shape())),
        model_(std::move(model)), coder_(model_->options().box_weights) {}

  std::string family() const override { return "retinanet"; }
  TapMap features(const torch::Tensor& input) override { return model_->backbone()->forward(input); }
  torch::nn::Module& module() override { return *model_; }

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const RetinaNet::Outputs out = model_->forward(in.tensor);
    const ImageSize size{in.meta.height, in.meta.width};
    const NetDetections dets = model_->postprocess(out, {size})[0];
    // Every candidate of every level: decoded, clipped boxes and sigmoid scores (A_l x K per level).
    std::vector<torch::Tensor> boxes, scores;
    std::vector<int64_t> level_start{0};
    for (size_t l = 0; l < out.anchors.size(); ++l) {
      const torch::Tensor b = coder_.decode_single(out.head.bbox_regression[l][0], out.anchors[l]);
      boxes.push_back(clip_boxes_to_image(b, size[0], size[1]));
      scores.push_back(torch::sigmoid(out.head.cls_logits[l][0]));
      level_start.push_back(level_start.back() + b.size(0));
    }
    const torch::Tensor all_boxes = torch::cat(boxes), all_scores = torch::cat(scores);
    return explain(
        dets, in.meta, [](int64_t column) { return static_cast<int>(column); },
        [&](ExplainedDetection& d, int64_t column) {
          const int64_t a = match_candidate(all_boxes, all_scores.select(1, column), d.box, d.score);
          d.level = static_cast<int>(std::upper_bound(level_start.begin(), level_start.end(), a) -
                                     level_start.begin() - 1);
          d.index = a - level_start[static_cast<size_t>(d.level)];
        });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    const RetinaNet::Outputs out = model_->forward(input);
    if (maps)
      for (size_t l = 0; l < out.features.size(); ++l) (*maps)[layers()[l]] = out.features[l];
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    const torch::Tensor logit =
        out.head.cls_logits[static_cast<size_t>(target->level)].select(1, target->index).select(1, target->label);
    return torch::sigmoid(logit).unsqueeze(1);
  }

 private:
  std::shared_ptr<RetinaNet> model_;
  BoxCoder coder_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_retinanet_explainer(const std::shared_ptr<DetectionModel>& model,
                                                             const TransformOptions& transform,
                                                             const std::vector<std::string>& class_names,
                                                             torch::Device device) {
  auto m = std::dynamic_pointer_cast<RetinaNet>(model);
  if (!m) return nullptr;
  return std::make_unique<RetinaNetExplainer>(m, transform, class_names, device);
}

}  // namespace detlab::detail

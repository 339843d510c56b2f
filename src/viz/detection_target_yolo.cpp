// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO v1 detections as targets: the class-specific confidence (class probability x box confidence, paper eq. 1)
// of the detection's grid cell and box predictor.
#include <torch/nn/module.h>

#include <algorithm>

#include "core/error.h"
#include "nn/detection/yolo_v1.h"
#include "nn/heads/yolo_head.h"
#include "viz/classifier_model.h"
#include "viz/detection_families.h"

namespace detlab::detail {

namespace {

class YoloExplainer : public DetectionExplainer {
 public:
  YoloExplainer(std::shared_ptr<YoloV1> model, std::shared_ptr<Backbone> backbone,
                std::shared_ptr<YoloV1HeadImpl> head, TransformOptions transform,
                std::vector<std::string> class_names, torch::Device device)
      : DetectionExplainer(std::move(transform), std::move(class_names), device,
                           features_by_stride(backbone->output_shape())),
        model_(std::move(model)), backbone_(std::move(backbone)), head_(std::move(head)) {}

  std::string family() const override { return "yolo"; }
  TapMap features(const torch::Tensor& input) override { return backbone_->forward(input); }
  torch::nn::Module& module() override { return *model_; }
  std::string default_layer() const override { return model_->feature(); }  // the map the grid head reads

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const std::vector<ImageSize> sizes{{in.meta.height, in.meta.width}};
    const NetDetections dets = model_->detect(in.tensor, sizes)[0];
    const YoloV1::Decoded all = model_->decode(model_->forward(in.tensor)[0].to(torch::kFloat), sizes[0][0], sizes[0][1]);
    const std::vector<std::string> maps = layers();
    const int level = static_cast<int>(std::find(maps.begin(), maps.end(), model_->feature()) - maps.begin());
    return explain(
        dets, in.meta, [](int64_t column) { return static_cast<int>(column); },
        [&](ExplainedDetection& d, int64_t column) {
          d.index = match_candidate(all.boxes, all.class_prob.select(1, column) * all.confidence, d.box, d.score);
          d.level = level;
        });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    TapMap m = backbone_->forward(input);
    // YoloV1::forward, split so that the backbone's maps stay in the graph: the head reads one of them.
    const torch::Tensor pred = head_->forward(m.at(model_->feature()));
    if (maps) *maps = std::move(m);
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    std::vector<torch::Tensor> scores;
    for (int64_t n = 0; n < input.size(0); ++n) {
      const YoloV1::Decoded d = model_->decode(pred[n], target->image_height, target->image_width);
      scores.push_back(d.class_prob[target->index][target->label] * d.confidence[target->index]);
    }
    return torch::stack(scores).unsqueeze(1);
  }

 private:
  std::shared_ptr<YoloV1> model_;
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<YoloV1HeadImpl> head_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_yolo_explainer(const std::shared_ptr<DetectionModel>& model,
                                                        const TransformOptions& transform,
                                                        const std::vector<std::string>& class_names,
                                                        torch::Device device) {
  auto m = std::dynamic_pointer_cast<YoloV1>(model);
  if (!m) return nullptr;
  std::shared_ptr<YoloV1HeadImpl> head;
  for (const auto& child : m->named_children())
    if (child.key() == "head") head = std::dynamic_pointer_cast<YoloV1HeadImpl>(child.value());
  std::shared_ptr<Backbone> backbone = find_backbone(*m);
  if (!head || !backbone) return nullptr;  // registered names differ from YoloV1's documented ones
  return std::make_unique<YoloExplainer>(m, backbone, head, transform, class_names, device);
}

}  // namespace detlab::detail

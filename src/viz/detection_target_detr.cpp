// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR detections as targets: the class probability of the detection's object query (softmax over the K classes
// and "no object", or the sigmoid with a focal criterion), as Detr::detect scores it.
#include <torch/nn/module.h>

#include <algorithm>

#include "nn/detr/detr.h"
#include "viz/classifier_model.h"
#include "viz/detection_families.h"

namespace detlab::detail {

namespace {

class DetrExplainer : public DetectionExplainer {
 public:
  DetrExplainer(std::shared_ptr<Detr> model, TransformOptions transform, std::vector<std::string> class_names,
                torch::Device device)
      : DetectionExplainer(std::move(transform), std::move(class_names), device,
                           features_by_stride(model->backbone()->output_shape())),
        model_(std::move(model)) {}

  std::string family() const override { return "detr"; }
  TapMap features(const torch::Tensor& input) override { return model_->backbone()->forward(input); }
  torch::nn::Module& module() override { return *model_; }
  std::string default_layer() const override { return model_->feature(); }  // the map the transformer reads

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const std::vector<ImageSize> sizes{{in.meta.height, in.meta.width}};
    const DetrOutputs out = model_->forward(in.tensor, sizes);
    std::vector<torch::Tensor> queries;
    const NetDetections dets = model_->predictions(out, sizes, &queries)[0];
    const std::vector<std::string> maps = layers();
    const int level = static_cast<int>(std::find(maps.begin(), maps.end(), model_->feature()) - maps.begin());
    const torch::Tensor query = queries[0].to(torch::kCPU);
    int64_t row = 0;
    return explain(
        dets, in.meta, [](int64_t column) { return static_cast<int>(column); },
        [&](ExplainedDetection& d, int64_t) {
          d.index = query[row++].item<int64_t>();
          d.level = level;
          if (out.selected.defined()) d.queries = out.selected.narrow(0, 0, 1).to(torch::kCPU);
        });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    TapMap m = model_->backbone()->forward(input);
    const torch::Tensor features = m.at(model_->feature());
    if (maps) *maps = std::move(m);
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    const int64_t n = input.size(0);
    const std::vector<ImageSize> sizes(static_cast<size_t>(n), ImageSize{target->image_height, target->image_width});
    const torch::Tensor mask = Detr::feature_mask(sizes, input.size(2), input.size(3), features.size(2),
                                                  features.size(3), input.device());
    const torch::Tensor selected =
        target->queries.defined() ? target->queries.to(input.device()).expand({n, target->queries.size(1)}) : torch::Tensor();
    const torch::Tensor logits = model_->forward_features(features, mask, nullptr, selected).logits[-1];  // N x Q x C
    const torch::Tensor prob = model_->options().criterion.focal ? logits.sigmoid() : logits.softmax(-1);
    return prob.select(1, target->index).select(1, target->label).unsqueeze(1);
  }

 private:
  std::shared_ptr<Detr> model_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_detr_explainer(const std::shared_ptr<DetectionModel>& model,
                                                        const TransformOptions& transform,
                                                        const std::vector<std::string>& class_names,
                                                        torch::Device device) {
  auto m = std::dynamic_pointer_cast<Detr>(model);
  if (!m) return nullptr;
  return std::make_unique<DetrExplainer>(m, transform, class_names, device);
}

}  // namespace detlab::detail

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DetectionExplainer: selection, score names, the family dispatch and candidate matching.
#include "viz/detection_target.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "viz/detection_families.h"

namespace detlab {

DetectionExplainer::DetectionExplainer(TransformOptions transform, std::vector<std::string> class_names,
                                       torch::Device device, std::vector<std::string> layers)
    : transform_(std::move(transform)), class_names_(std::move(class_names)), device_(device),
      layers_(std::move(layers)) {}

void DetectionExplainer::select(const ExplainedDetection& d, int64_t input_height, int64_t input_width) {
  const std::vector<std::string> l = layers();
  // An explainer without layers (a staged pipeline scored by its own stages) has no level to choose.
  DETLAB_REQUIRE(l.empty() ? d.level == -1 : (d.level >= 0 && static_cast<size_t>(d.level) < l.size()), d.level,
                 l.size());
  selected_ = d;
  height_ = input_height;
  width_ = input_width;
}

std::vector<std::string> DetectionExplainer::score_names() const {
  if (!selected_) return {};
  return {selected_->name};
}

std::string DetectionExplainer::default_layer() const {
  if (selected_) return layers().at(static_cast<size_t>(selected_->level));
  return ScoreModel::default_layer();
}

torch::Tensor DetectionExplainer::forward(const torch::Tensor& input, TapMap* maps) {
  if (!selected_) return run(input, maps, nullptr);
  TORCH_CHECK(input.size(2) == height_ && input.size(3) == width_, "the chosen detection came from a ", height_, " x ",
              width_, " input; its anchor / proposal does not exist in a ", input.size(2), " x ", input.size(3), " one");
  return run(input, maps, &*selected_);
}

std::vector<ExplainedDetection> DetectionExplainer::explain(const NetDetections& dets, const ImageMeta& meta,
                                                            const std::function<int(int64_t column)>& label_of,
                                                            const LocateFn& locate) const {
  const torch::Tensor boxes = dets.boxes.to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor scores = dets.scores.to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor labels = dets.labels.to(torch::kCPU, torch::kLong).contiguous();
  std::vector<ExplainedDetection> out;
  for (int64_t i = 0; i < boxes.size(0); ++i) {
    const int64_t column = labels[i].item<int64_t>();
    ExplainedDetection d;
    d.label = label_of(column);
    if (d.label < 0) continue;  // a column no label of this data set maps to
    const auto b = boxes[i];
    d.box = Box{b[0].item<float>(), b[1].item<float>(), b[2].item<float>(), b[3].item<float>()};
    d.score = scores[i].item<float>();
    locate(d, column);
    d.image_height = meta.height;
    d.image_width = meta.width;
    const float sx = meta.scale_x, sy = meta.scale_y;
    d.image_box = Box{std::max(0.f, d.box.x1 / sx), std::max(0.f, d.box.y1 / sy),
                      std::min<float>(meta.orig_width, d.box.x2 / sx),
                      std::min<float>(meta.orig_height, d.box.y2 / sy)};
    std::ostringstream os;
    os << (static_cast<size_t>(d.label) < class_names_.size() ? class_names_[static_cast<size_t>(d.label)]
                                                               : "#" + std::to_string(d.label))
       << " " << std::fixed;
    os.precision(2);
    os << d.score << " @ " << std::lround(d.image_box.x1) << "," << std::lround(d.image_box.y1) << ","
       << std::lround(d.image_box.x2) << "," << std::lround(d.image_box.y2);
    d.name = os.str();
    out.push_back(std::move(d));
  }
  return out;
}

int64_t match_candidate(const torch::Tensor& boxes, const torch::Tensor& scores, const Box& box, float score) {
  DETLAB_REQUIRE(boxes.dim() == 2 && boxes.size(1) == 4 && scores.dim() == 1 && scores.size(0) == boxes.size(0) &&
                     boxes.size(0) > 0,
                 boxes.sizes(), scores.sizes());
  const torch::Tensor b = boxes.to(torch::kCPU, torch::kDouble), s = scores.to(torch::kCPU, torch::kDouble);
  const torch::Tensor target = torch::tensor({double(box.x1), double(box.y1), double(box.x2), double(box.y2)}, torch::kDouble);
  // Score first (a 1e-6 difference outweighs any box distance below 1e3 px), then the box.
  const torch::Tensor cost = (s - score).abs() * 1e9 + (b - target).abs().sum(1);
  return cost.argmin().item<int64_t>();
}

std::unique_ptr<DetectionExplainer> make_detection_explainer(std::shared_ptr<DetectionModel> model,
                                                             const TransformOptions& transform,
                                                             std::vector<std::string> class_names,
                                                             torch::Device device) {
  DETLAB_REQUIRE(model != nullptr);
  if (auto e = detail::make_retinanet_explainer(model, transform, class_names, device)) return e;
  if (auto e = detail::make_ssd_explainer(model, transform, class_names, device)) return e;
  if (auto e = detail::make_faster_rcnn_explainer(model, transform, class_names, device)) return e;
  if (auto e = detail::make_yolo_explainer(model, transform, class_names, device)) return e;
  if (auto e = detail::make_detr_explainer(model, transform, class_names, device)) return e;
  return nullptr;
}

}  // namespace detlab

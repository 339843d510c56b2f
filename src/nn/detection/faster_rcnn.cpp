// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FasterRCNN (see faster_rcnn.h): torchvision's GeneralizedRCNN forward without the transform.
#include "nn/detection/faster_rcnn.h"

#include <chrono>

namespace detlab {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

FasterRcnnOptions fasterrcnn_resnet50_fpn_options(int64_t num_classes) {
  FasterRcnnOptions o;
  o.num_classes = num_classes;
  return o;  // the member defaults are torchvision's fasterrcnn_resnet50_fpn settings
}

const std::vector<std::string>& coco_category_names() {
  static const std::vector<std::string> names = {
      "__background__", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
      "traffic light", "fire hydrant", "N/A", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse",
      "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "N/A", "backpack", "umbrella", "N/A", "N/A",
      "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat",
      "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "N/A", "wine glass", "cup", "fork",
      "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
      "donut", "cake", "chair", "couch", "potted plant", "bed", "N/A", "dining table", "N/A", "N/A", "toilet",
      "N/A", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
      "refrigerator", "N/A", "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush"};
  return names;
}

std::vector<std::pair<std::string, std::string>> faster_rcnn_legacy_renames(int fpn_levels) {
  std::vector<std::pair<std::string, std::string>> r;
  for (const char* p : {"weight", "bias"}) {
    r.emplace_back(std::string("rpn.head.conv.") + p, std::string("rpn.head.conv.0.0.") + p);
    for (int i = 0; i < fpn_levels; ++i)
      for (const char* block : {"inner_blocks", "layer_blocks"}) {
        const std::string base = std::string("backbone.fpn.") + block + "." + std::to_string(i) + ".";
        r.emplace_back(base + p, base + "0." + p);
      }
  }
  return r;
}

FasterRCNN::FasterRCNN(std::shared_ptr<Backbone> bb, const FasterRcnnOptions& o) : backbone(std::move(bb)) {
  TORCH_CHECK(backbone != nullptr, "FasterRCNN: backbone is null");
  const auto shapes = backbone->output_shape();
  rpn_features_ = o.rpn_features.empty() ? features_by_stride(shapes) : o.rpn_features;
  for (const std::string& f : rpn_features_)
    TORCH_CHECK(shapes.count(f), "FasterRCNN: the backbone has no map '", f, "' for the RPN");
  for (const std::string& f : o.box_roi_pool.featmap_names)
    TORCH_CHECK(shapes.count(f), "FasterRCNN: the backbone has no map '", f, "' for the box head");
  RpnOptions ro = o.rpn;
  ro.in_channels = shapes.at(rpn_features_[0]).channels;
  for (const std::string& f : rpn_features_)
    TORCH_CHECK(shapes.at(f).channels == ro.in_channels, "FasterRCNN: the RPN's maps need equal channels; '", f,
                "' has ", shapes.at(f).channels, ", '", rpn_features_[0], "' ", ro.in_channels);
  rpn = RegionProposalNetwork(ro);
  TORCH_CHECK(rpn->num_levels() == rpn_features_.size(), "FasterRCNN: anchors on ", rpn->num_levels(),
              " levels for ", rpn_features_.size(), " RPN maps");
  const int64_t channels = shapes.at(o.box_roi_pool.featmap_names[0]).channels;
  auto pool = std::make_shared<MultiScaleRoiAlign>(o.box_roi_pool, channels);
  TwoMlpHeadOptions h;
  h.in_features = channels * o.box_roi_pool.output_size * o.box_roi_pool.output_size;
  h.representation_size = o.representation_size;
  FastRcnnPredictorOptions p;
  p.in_channels = o.representation_size;
  p.num_classes = o.num_classes;
  roi_heads = RoIHeads(pool, TwoMlpHead(h), FastRcnnPredictor(p), o.roi_heads);
  init(o.label_map);
}

FasterRCNN::FasterRCNN(std::shared_ptr<Backbone> bb, RegionProposalNetwork r, std::vector<std::string> rpn_features,
                       RoIHeads heads, std::vector<int64_t> label_map)
    : backbone(std::move(bb)), rpn(std::move(r)), roi_heads(std::move(heads)), rpn_features_(std::move(rpn_features)) {
  TORCH_CHECK(!rpn.is_empty() || !roi_heads.is_empty(), "FasterRCNN: needs an RPN, RoI heads or both");
  if (!rpn.is_empty()) {
    TORCH_CHECK(backbone != nullptr, "FasterRCNN: the RPN needs a backbone");
    TORCH_CHECK(rpn->num_levels() == rpn_features_.size(), "FasterRCNN: anchors on ", rpn->num_levels(),
                " levels for ", rpn_features_.size(), " RPN maps");
  }
  init(std::move(label_map));
}

void FasterRCNN::init(std::vector<int64_t> label_map) {
  const int64_t columns = roi_heads.is_empty() ? 0 : roi_heads->num_classes();
  if (label_map.empty())
    for (int64_t c = 1; c < columns; ++c) label_map.push_back(c);
  label_map_ = std::move(label_map);
  column_to_label_.assign(static_cast<size_t>(columns), -1);
  for (size_t k = 0; k < label_map_.size(); ++k) {
    const int64_t c = label_map_[k];
    TORCH_CHECK(roi_heads.is_empty() || (c >= 1 && c < columns), "FasterRCNN: label ", k, " maps to predictor column ",
                c, ", outside [1, ", columns, ")");
    if (!roi_heads.is_empty()) {
      TORCH_CHECK(column_to_label_[c] < 0, "FasterRCNN: labels ", column_to_label_[c], " and ", k,
                  " map to the same predictor column ", c);
      column_to_label_[c] = static_cast<int64_t>(k);
    }
  }
  if (backbone) register_module("backbone", backbone);
  if (!rpn.is_empty()) register_module("rpn", rpn);
  if (!roi_heads.is_empty()) register_module("roi_heads", roi_heads);
}

std::vector<NetTarget> FasterRCNN::to_columns(const std::vector<NetTarget>& targets) const {
  if (roi_heads.is_empty()) return targets;  // the RPN ignores labels
  const torch::Tensor map = torch::tensor(label_map_.empty() ? std::vector<int64_t>{0} : label_map_, torch::kLong);
  std::vector<NetTarget> out;
  for (const NetTarget& t : targets) {
    const torch::Tensor labels = t.labels.to(torch::kCPU, torch::kLong);
    if (labels.numel() > 0)
      TORCH_CHECK(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < num_classes(),
                  "FasterRCNN: target labels must lie in [0, ", num_classes(), ")");
    out.push_back({t.boxes, map.index_select(0, labels).to(t.labels.device())});
  }
  return out;
}

std::vector<NetDetections> FasterRCNN::to_labels(std::vector<NetDetections> dets) const {
  const torch::Tensor map = torch::tensor(column_to_label_, torch::kLong);
  for (NetDetections& d : dets) {
    // Columns no label maps to (COCO's "N/A" ids) are dropped after the model's top-k, as an evaluator ignores
    // unknown categories: the kept detections are exactly torchvision's.
    const torch::Tensor labels = map.index_select(0, d.labels.to(torch::kCPU)).to(d.labels.device());
    const torch::Tensor keep = torch::where(labels >= 0)[0];
    d.boxes = d.boxes.index_select(0, keep);
    d.scores = d.scores.index_select(0, keep);
    d.labels = labels.index_select(0, keep);
  }
  return dets;
}

std::map<std::string, torch::Tensor> FasterRCNN::features(const torch::Tensor& images) {
  if (!backbone) return {};
  return backbone->forward(images);
}

RpnOutput FasterRCNN::propose(const torch::Tensor& images, const std::map<std::string, torch::Tensor>& features,
                              const std::vector<ImageSize>& image_sizes, const std::vector<NetTarget>* targets) {
  TORCH_CHECK(!rpn.is_empty(), "FasterRCNN: this model has no RPN; give proposals");
  std::vector<torch::Tensor> maps;
  for (const std::string& f : rpn_features_) {
    const auto it = features.find(f);
    TORCH_CHECK(it != features.end(), "FasterRCNN: the backbone gave no map '", f, "'");
    maps.push_back(it->second);
  }
  return rpn->forward(images, maps, image_sizes, targets);
}

std::vector<NetDetections> FasterRCNN::detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              NetTimes* times) {
  TORCH_CHECK(!rpn.is_empty() && !roi_heads.is_empty(), "FasterRCNN::detect needs an RPN and RoI heads");
  auto t = std::chrono::steady_clock::now();
  const auto maps = features(images);
  if (times) times->emplace_back("backbone", ms_since(t));
  t = std::chrono::steady_clock::now();
  const RpnOutput props = propose(images, maps, image_sizes);
  if (times) times->emplace_back("rpn", ms_since(t));
  t = std::chrono::steady_clock::now();
  std::vector<NetDetections> dets = to_labels(roi_heads->detect(maps, images, props.boxes, image_sizes));
  if (times) times->emplace_back("roi_heads", ms_since(t));
  return dets;
}

std::vector<NetDetections> FasterRCNN::detect_with_proposals(const torch::Tensor& images,
                                                             const std::vector<ImageSize>& image_sizes,
                                                             const std::vector<torch::Tensor>& proposals,
                                                             NetTimes* times) {
  TORCH_CHECK(!roi_heads.is_empty(), "FasterRCNN: this model has no RoI heads");
  auto t = std::chrono::steady_clock::now();
  const auto maps = features(images);
  if (times) times->emplace_back("backbone", ms_since(t));
  t = std::chrono::steady_clock::now();
  std::vector<NetDetections> dets = to_labels(roi_heads->detect(maps, images, proposals, image_sizes));
  if (times) times->emplace_back("roi_heads", ms_since(t));
  return dets;
}

std::map<std::string, torch::Tensor> FasterRCNN::losses(const torch::Tensor& images,
                                                        const std::vector<ImageSize>& image_sizes,
                                                        const std::vector<NetTarget>& targets) {
  TORCH_CHECK(!rpn.is_empty(), "FasterRCNN: this model has no RPN; use losses_with_proposals");
  const std::vector<NetTarget> columns = to_columns(targets);
  const auto maps = features(images);
  RpnOutput props = propose(images, maps, image_sizes, &columns);
  std::map<std::string, torch::Tensor> out = std::move(props.losses);
  if (!roi_heads.is_empty()) {
    auto head = roi_heads->losses(maps, images, props.boxes, image_sizes, columns);
    out.insert(head.begin(), head.end());
  }
  return out;
}

std::map<std::string, torch::Tensor> FasterRCNN::losses_with_proposals(const torch::Tensor& images,
                                                                       const std::vector<ImageSize>& image_sizes,
                                                                       const std::vector<NetTarget>& targets,
                                                                       const std::vector<torch::Tensor>& proposals) {
  TORCH_CHECK(!roi_heads.is_empty(), "FasterRCNN: this model has no RoI heads");
  const std::vector<NetTarget> columns = to_columns(targets);
  return roi_heads->losses(features(images), images, proposals, image_sizes, columns);
}

}  // namespace detlab

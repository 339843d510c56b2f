// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The faster_rcnn detector from raw images: our input transform against torchvision's GeneralizedRCNNTransform,
// torchvision's weights through a config (COCO class mapping) against torchvision's final detections, and the
// staged composition (backbone -> rpn -> roi_align -> fast_rcnn_head) against the faster_rcnn detector with the
// same weights (one code path per component).
#include <catch2/catch.hpp>

#include <algorithm>

#include "data/synthetic.h"
#include "detectors/faster_rcnn.h"
#include "nn/tv_fixture.h"
#include "pipeline/model_dir.h"
#include "pipeline/registries.h"
#include "tensor/transform.h"
#include "nn/catch_torch.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

/// H x W x 3 RGB uint8 tensor -> BGR cv::Mat.
cv::Mat to_bgr(const torch::Tensor& rgb) {
  const torch::Tensor bgr = rgb.flip({2}).contiguous();
  return cv::Mat(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, bgr.data_ptr<uint8_t>()).clone();
}

std::vector<std::string> coco_80() {
  std::vector<std::string> names;
  for (const std::string& n : coco_category_names())
    if (n != "N/A" && n != "__background__") names.push_back(n);
  return names;
}

/// Detection lists agree up to the order of rows whose scores tie within score_tol (see test_faster_rcnn.cpp).
int64_t unmatched(const Detections& ours, const std::vector<Detection>& ref, double box_tol, double score_tol,
                  double* box_diff, double* score_diff) {
  std::vector<bool> used(ref.size(), false);
  int64_t missing = 0;
  *box_diff = *score_diff = 0;
  auto bd = [](const Box& a, const Box& b) {
    return std::max({std::abs(a.x1 - b.x1), std::abs(a.y1 - b.y1), std::abs(a.x2 - b.x2), std::abs(a.y2 - b.y2)});
  };
  for (size_t i = 0; i < ours.size(); ++i) {
    int64_t m = -1;
    for (size_t j = 0; j < ref.size() && m < 0; ++j) {
      const size_t k = (i + j) % ref.size();  // the same index first
      if (!used[k] && ours[i].label == ref[k].label && std::abs(ours[i].score - ref[k].score) <= score_tol &&
          bd(ours[i].box, ref[k].box) <= box_tol)
        m = static_cast<int64_t>(k);
    }
    if (m < 0) {
      ++missing;
      continue;
    }
    used[m] = true;
    *box_diff = std::max<double>(*box_diff, bd(ours[i].box, ref[m].box));
    *score_diff = std::max<double>(*score_diff, std::abs(ours[i].score - ref[m].score));
  }
  return missing + static_cast<int64_t>(ref.size()) - static_cast<int64_t>(ours.size());
}

}  // namespace

TEST_CASE("the detector input transform equals torchvision's GeneralizedRCNNTransform", "[detectors][faster_rcnn]") {
  const fs::path dir = test::tv_fixture("fasterrcnn_resnet50_fpn");
  if (dir.empty()) return;
  const auto in = test::load_tensors(dir / "inputs.pt");
  const cv::Mat a = to_bgr(in.at("raw_image_0")), b = to_bgr(in.at("raw_image_1"));
  SECTION("torchvision's defaults: shorter side 800, longer <= 1333, padding to 32") {
    const Batch batch = make_eval_batch({a}, TransformOptions{});
    const torch::Tensor& tv = in.at("transform_800");
    REQUIRE(batch.images.sizes() == tv.sizes());
    CHECK(batch.meta[0].height == in.at("transform_800_sizes")[0][0].item<int64_t>());
    CHECK(batch.meta[0].width == in.at("transform_800_sizes")[0][1].item<int64_t>());
    const double diff = test::max_abs_diff(batch.images, tv);
    INFO("max difference " << diff);
    CHECK(diff <= 1e-5);
  }
  SECTION("the fixture's 480 / 640, a batch of two sizes") {
    TransformOptions t;
    t.min_size = 480;
    t.max_size = 640;
    const Batch batch = make_eval_batch({a, b}, t);
    REQUIRE(batch.images.sizes() == in.at("images").sizes());
    for (int i = 0; i < 2; ++i) {
      CHECK(batch.meta[i].height == in.at("image_sizes")[i][0].item<int64_t>());
      CHECK(batch.meta[i].width == in.at("image_sizes")[i][1].item<int64_t>());
    }
    const double diff = test::max_abs_diff(batch.images, in.at("images"));
    INFO("max difference " << diff);
    CHECK(diff <= 1e-5);
  }
}

TEST_CASE("faster_rcnn with torchvision's weights (COCO columns) gives torchvision's detections from raw images",
          "[detectors][faster_rcnn]") {
  const fs::path dir = test::tv_fixture("fasterrcnn_resnet50_fpn");
  if (dir.empty()) return;
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto out = test::load_tensors(dir / "outputs.pt");
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = coco_80();
  const Config cfg = Config::parse("{type: faster_rcnn, input: {min_size: 480, max_size: 640}, model_classes: coco, "
                                   "weights: '" + (dir / "state_dict.pt").string() + "'}");
  auto det = builtin_registries().detectors.build(cfg, b);
  for (int i = 0; i < 2; ++i) {
    const std::string k = std::to_string(i);
    const Image img{"tv" + k, to_bgr(in.at("raw_image_" + k))};
    const Detections ours = det->detect(img);
    // torchvision's detections with its column ids as our labels; columns without a class ("N/A") dropped.
    std::vector<Detection> ref;
    const torch::Tensor boxes = out.at("single_boxes_" + k), scores = out.at("single_scores_" + k),
                        labels = out.at("single_labels_" + k);
    const auto names = b.class_names;
    for (int64_t j = 0; j < boxes.size(0); ++j) {
      const std::string& name = coco_category_names()[labels[j].item<int64_t>()];
      const auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) continue;
      ref.push_back({Box{boxes[j][0].item<float>(), boxes[j][1].item<float>(), boxes[j][2].item<float>(),
                         boxes[j][3].item<float>()},
                     static_cast<int>(it - names.begin()), scores[j].item<float>()});
    }
    REQUIRE(ref.size() >= 20);
    double box_diff = 0, score_diff = 0;
    const int64_t missing = unmatched(ours, ref, 1e-3, 1e-4, &box_diff, &score_diff);
    INFO("image " << i << ": " << ours.size() << " detections, torchvision " << ref.size() << "; max box difference "
                  << box_diff << " px, score difference " << score_diff);
    CHECK(missing == 0);
    CHECK(box_diff <= 1e-3);
    CHECK(score_diff <= 1e-4);
  }
}

TEST_CASE("the staged Faster R-CNN equals the faster_rcnn detector with the same weights", "[detectors][faster_rcnn]") {
  SyntheticOptions so;
  so.num_images = 4;
  so.width = so.height = 128;
  so.min_size = 28;
  so.max_size = 56;
  so.classes = {"ellipse", "cross"};
  const Dataset ds = make_synthetic(so);
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = ds.class_names;
  torch::manual_seed(5);
  auto net = builtin_registries().detectors.build(
      Config::parse("{type: faster_rcnn, input: {min_size: 128, max_size: 128}, representation_size: 64,"
                    " backbone: {type: small_resnet, norm: batch_norm, trainable_layers: -1, fpn: {out_channels: 32}},"
                    " rpn: {post_nms_top_n: {train: 300, test: 300}}}"),
      b);
  auto& frcnn = dynamic_cast<NetworkDetector&>(*net);
  {
    torch::NoGradGuard g;  // spread the random heads: scores far from ties, so both paths keep the same boxes
    for (auto& item : frcnn.model()->named_parameters())
      if (item.key().find("cls_logits.weight") != std::string::npos ||
          item.key().find("cls_score.weight") != std::string::npos)
        item.value().normal_(0, 0.3);
  }
  // The faster_rcnn model's state dict split into the staged stages' files.
  const fs::path dir = test::temp_dir("staged_vs_faster_rcnn");
  StateDict backbone, rpn, head;
  for (const auto& [key, t] : module_state_dict(*frcnn.model())) {
    if (key.rfind("backbone.", 0) == 0) backbone[key.substr(9)] = t;
    else if (key.rfind("rpn.", 0) == 0) rpn[key.substr(4)] = t;
    else if (key.rfind("roi_heads.", 0) == 0) head[key.substr(10)] = t;
  }
  save_state_dict(backbone, (dir / "backbone.pt").string());
  save_state_dict(rpn, (dir / "rpn.pt").string());
  save_state_dict(head, (dir / "fast_rcnn_head.pt").string());
  const Config staged_cfg = Config::parse(
      "{type: staged, backbone: {type: small_resnet, fpn: {out_channels: 32}, input: {min_size: 128, max_size: 128}},"
      " proposals: {type: rpn, post_nms_top_n: {train: 300, test: 300}}, features: {type: roi_align},"
      " classifier: {type: fast_rcnn_head, representation_size: 64},"
      " postprocess: {nms_iou: 0.5, score_thresh: 0.05, max_per_image: 100}}");
  auto staged = builtin_registries().detectors.build(staged_cfg, b);
  ModelHeader h;
  h.type = "staged";
  h.class_names = ds.class_names;
  h.config_hash = staged_cfg.hash();
  h.files = {"backbone.pt", "fast_rcnn_head.pt", "rpn.pt"};
  write_model_header(dir, h);
  staged->load(dir);
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const Image img{ds.images[i].name, ds.load_image(i)};
    const Detections a = staged->detect(img), r = frcnn.detect(img);
    double box_diff = 0, score_diff = 0;
    const int64_t missing = unmatched(a, r, 1e-2, 1e-4, &box_diff, &score_diff);
    INFO("image " << i << ": staged " << a.size() << ", faster_rcnn " << r.size() << "; max box difference "
                  << box_diff << " px, score difference " << score_diff);
    CHECK(r.size() >= 10);
    CHECK(missing == 0);
  }
}

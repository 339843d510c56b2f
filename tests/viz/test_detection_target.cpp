// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detection targets: for every supported family the explained score of a chosen detection equals the score the
// detector reported for it, and the gradient methods run on it.
#include "../train/catch_torch.h"

#include "cli/visualize_staged.h"
#include "config/config.h"
#include "core/error.h"
#include "data/synthetic.h"
#include "detectors/network_detector.h"
#include "pipeline/registries.h"
#include "viz/detection_target.h"
#include "viz/grad_cam.h"
#include "viz/occlusion.h"
#include "viz/saliency.h"

using namespace detlab;

namespace {

Dataset images() {
  SyntheticOptions o;
  o.num_images = 2;
  o.width = o.height = 128;
  o.min_size = 28;
  o.max_size = 56;
  o.classes = {"ellipse", "cross"};
  o.seed = 4;
  return make_synthetic(o);
}

}  // namespace

TEST_CASE("every explainable family: the explained score is the reported score", "[viz][detection_target]") {
  // Randomly initialized networks (what is checked is the bookkeeping, not what they learned). RetinaNet's prior
  // keeps every score near 0.01: its threshold is lowered so that there are detections to explain.
  const std::vector<std::pair<std::string, std::string>> families = {
      {"retinanet",
       "{type: retinanet, backbone: {type: small_resnet}, fpn: {out_channels: 32}, head: {num_convs: 1}, "
       "anchors: {sizes: [16, 32, 64, 128, 256]}, input: {min_size: 128, max_size: 128}, "
       "postprocess: {score_thresh: 0.0, detections_per_img: 20}}"},
      {"ssd", "{type: ssd, backbone: {type: small_vgg}, input: {fixed_size: 256}, anchors: {min_ratio: 0.1, max_ratio: 0.9}}"},
      {"faster_rcnn",
       "{type: faster_rcnn, input: {min_size: 128, max_size: 128}, representation_size: 64, "
       "backbone: {type: small_resnet, norm: batch_norm, trainable_layers: -1, fpn: {out_channels: 32}}, "
       "rpn: {post_nms_top_n: {train: 100, test: 100}}}"},
      {"yolo",
       "{type: yolo, input: {fixed_size: 128, size_divisibility: 32}, grid_size: 4, backbone: {type: small_resnet}, "
       "head: {hidden_channels: 32, num_convs: 1, fc_hidden: 64}}"},
      {"detr",
       "{type: detr, input: {min_size: 128, max_size: 128}, backbone: {type: small_resnet}, num_queries: 12, "
       "transformer: {d_model: 32, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1, dim_feedforward: 64, "
       "dropout: 0.0}}"},
      // Two-stage query selection: a query keeps its encoder token while the input changes.
      {"detr",
       "{type: detr, input: {min_size: 128, max_size: 128}, backbone: {type: small_resnet}, num_queries: 12, "
       "two_stage: true, transformer: {d_model: 32, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1, "
       "dim_feedforward: 64, dropout: 0.0}}"},
  };
  const Dataset ds = images();
  for (const auto& [family, yaml] : families) {
    INFO("family " << family);
    torch::manual_seed(9);
    BuildContext b;
    b.registries = &builtin_registries();
    b.class_names = ds.class_names;
    auto det = builtin_registries().detectors.build(Config::parse(yaml, "test"), b);
    auto* net = dynamic_cast<NetworkDetector*>(det.get());
    REQUIRE(net != nullptr);
    auto ex = make_detection_explainer(net->model(), net->options().transform, ds.class_names, torch::kCPU);
    REQUIRE(ex != nullptr);
    REQUIRE(ex->family() == family);
    REQUIRE(ex->score_names().empty());  // nothing chosen yet

    const cv::Mat img = ds.load_image(0);
    const ModelInput in = make_input(img, *ex);
    const std::vector<ExplainedDetection> dets = ex->detections(in);
    REQUIRE(!dets.empty());
    if (family == "detr") REQUIRE(dets.size() == 12);  // every query, as Detr::detect reports them
    // The same detections as the detector's own inference path (boxes in original pixels, scores).
    const Detections reported = det->detect(Image{"x", img});
    REQUIRE(reported.size() >= std::min<size_t>(dets.size(), 1));
    REQUIRE(dets[0].score == Approx(reported[0].score).epsilon(1e-5));
    REQUIRE(dets[0].image_box.x1 == Approx(reported[0].box.x1).margin(1e-2));
    REQUIRE(dets[0].label == reported[0].label);
    for (size_t i = 0; i < std::min<size_t>(3, dets.size()); ++i) {
      ex->select(dets[i], in.tensor.size(2), in.tensor.size(3));
      REQUIRE(ex->score_names().size() == 1);
      torch::NoGradGuard no_grad;
      const double s = ex->forward(in.tensor, nullptr)[0][0].item<double>();
      INFO("detection " << i << " " << dets[i].name << " level " << dets[i].level << " index " << dets[i].index);
      REQUIRE(s == Approx(dets[i].score).epsilon(1e-4).margin(1e-6));
    }
    ex->select(dets[0], in.tensor.size(2), in.tensor.size(3));
    const Heatmap g = grad_cam(*ex, in.tensor, {});
    REQUIRE(g.layer == ex->default_layer());
    REQUIRE(torch::isfinite(g.values).all().item<bool>());
    const Heatmap sal = saliency(*ex, in.tensor, {});
    REQUIRE(sal.values.max().item<float>() > 0);  // the score depends on the pixels
    OcclusionOptions oo;
    oo.size = 32;
    oo.stride = 32;
    const OcclusionResult occ = occlusion(*ex, in.tensor, in.meta.height, in.meta.width, oo);
    REQUIRE(occ.map.values.size(0) == in.tensor.size(2));
    // A different input size has no such anchor: refused, not silently wrong.
    REQUIRE_THROWS(ex->forward(torch::zeros({1, 3, in.tensor.size(2) + 32, in.tensor.size(3)}), nullptr));
  }
}

TEST_CASE("staged pipelines: the explained score is the stages' own score, by network or by the stages",
          "[viz][detection_target]") {
  // Untrained heads (a near-uniform softmax): every proposal scores about 1 / (K + 1), so there are detections.
  const std::vector<std::pair<std::string, std::string>> pipelines = {
      {"network", "{type: staged, backbone: {type: small_resnet, out_features: [layer3], input: {min_size: 128, "
                  "max_size: 128}}, proposals: {type: selective_search, mode: fast, max_proposals: 60}, "
                  "features: {type: roi_pool, featmap: layer3, output_size: 7}, classifier: {type: fast_rcnn_head, "
                  "representation_size: 32}, postprocess: {score_thresh: 0.0, max_per_image: 10}}"},
      {"stages", "{type: staged, proposals: {type: selective_search, mode: fast, max_proposals: 30}, features: "
                 "{type: cnn_crop, backbone: {type: small_resnet}}, classifier: {type: fast_rcnn_head, "
                 "representation_size: 32}, postprocess: {score_thresh: 0.0, max_per_image: 5}}"},
  };
  const Dataset ds = images();
  for (const auto& [kind, yaml] : pipelines) {
    INFO("pipeline " << kind);
    torch::manual_seed(4);
    BuildContext b;
    b.registries = &builtin_registries();
    b.class_names = ds.class_names;
    auto det = builtin_registries().detectors.build(Config::parse(yaml, "test"), b);
    auto ex = cli::make_staged_explainer(*det, ds.class_names, torch::kCPU);
    REQUIRE(ex != nullptr);
    CHECK(ex->family() == "staged");
    CHECK(ex->layers().empty() == (kind == "stages"));
    const cv::Mat img = ds.load_image(0);
    const ModelInput in = make_input(img, *ex);
    const std::vector<ExplainedDetection> dets = ex->detections(in);
    REQUIRE(dets.size() >= 3);
    const Detections reported = det->detect(Image{"x", img});
    REQUIRE(reported.size() == dets.size());
    for (size_t i = 0; i < dets.size(); ++i) {
      CHECK(dets[i].score == Approx(reported[i].score).epsilon(1e-6));
      CHECK(dets[i].image_box.x1 == Approx(reported[i].box.x1).margin(1e-2));
      CHECK(dets[i].label == reported[i].label);
    }
    for (size_t i = 0; i < 3; ++i) {
      ex->select(dets[i], in.tensor.size(2), in.tensor.size(3));
      torch::NoGradGuard no_grad;
      const double s = ex->forward(in.tensor, nullptr)[0][0].item<double>();
      INFO("detection " << i << " " << dets[i].name << " proposal " << dets[i].index);
      CHECK(s == Approx(dets[i].score).epsilon(1e-4).margin(1e-6));
    }
    ex->select(dets[0], in.tensor.size(2), in.tensor.size(3));
    OcclusionOptions oo;
    oo.size = 48;
    oo.stride = 48;
    const OcclusionResult occ = occlusion(*ex, in.tensor, in.meta.height, in.meta.width, oo);
    CHECK(torch::isfinite(occ.map.values).all().item<bool>());
    if (kind == "network") {
      const Heatmap g = grad_cam(*ex, in.tensor, {});
      CHECK(g.layer == "layer3");
      CHECK(torch::isfinite(g.values).all().item<bool>());
      CHECK(saliency(*ex, in.tensor, {}).values.max().item<float>() > 0);
      CHECK_FALSE(ex->region_grad_cam(in.tensor).has_value());  // layer Grad-CAM covers it
    } else {
      CHECK_THROWS_AS(grad_cam(*ex, in.tensor, {}), InputError);
      CHECK_THROWS_AS(saliency(*ex, in.tensor, {}), InputError);
      // A network head over crops is not linear in the crop's cells: no region Grad-CAM, said so.
      CHECK_THROWS_WITH(ex->region_grad_cam(in.tensor), Catch::Contains("explain it with occlusion"));
    }
  }
}

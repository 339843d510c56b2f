// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The subject of detlab visualize: a model folder loaded as a classifier, a detection explainer (every family: a
// network's, a staged pipeline's, dlib's FHOG) or, for other networks, their backbone's layers.
#include "cli/visualize_methods.h"
#include "cli/visualize_staged.h"

#include <iostream>

#include "core/error.h"
#include "detectors/network_detector.h"
#include "nn/detr/detr.h"
#include "tensor/runtime.h"

namespace detlab::cli {

namespace fs = std::filesystem;

Subject load_subject(const std::string& model_dir, std::string config, const CommonOptions& common) {
  if (config.empty()) config = (fs::path(model_dir) / "config.yaml").string();
  if (!fs::exists(config))
    throw InputError(config, "--config", "not found (pass the experiment config the model was trained with)");
  Subject s;
  s.rc = load_run_config(config, common.overrides);
  const torch::Device device = parse_device(common.device);
  if (s.rc.root.has("classifier")) {
    s.classifier = build_classifier(s.rc);
    s.classifier->load(model_dir);
    s.classifier->to_device(common.device);
    s.classifier_model = std::make_unique<ClassifierScoreModel>(s.classifier->view());
    s.name = "classifier";
    return s;
  }
  s.detector = load_trained(s.rc, model_dir);
  auto* net = dynamic_cast<NetworkDetector*>(s.detector.get());
  if (net == nullptr) {
    s.name = std::string(s.detector->name());
    s.explainer = make_staged_explainer(*s.detector, s.rc.dataset.class_names, device);
    if (!s.explainer) s.explainer = make_fhog_explainer(*s.detector, s.rc.dataset.class_names, device);
    if (!s.explainer)
      throw InputError(model_dir, "--model", "a '" + s.name + "' detector exposes no network and no stages to explain");
    if (s.explainer->layers().empty())
      std::cerr << "note: " << s.name << " scores regions on the image's own pixels: occlusion and grad-cam (the "
                   "per-cell terms of its linear score) explain its detections; layer methods need a network\n";
    return s;
  }
  net->to_device(common.device);
  s.name = std::string(s.detector->name());
  s.explainer = make_detection_explainer(net->model(), net->options().transform, net->options().class_names, device);
  if (!s.explainer) {
    std::shared_ptr<Backbone> b = find_backbone(*net->model());
    if (!b) throw InputError(model_dir, "--model", "the " + s.name + " network has no `backbone` module");
    s.backbone = std::make_unique<BackboneScoreModel>(b, net->model(), net->options().transform, device);
    std::cerr << "note: detections of " << s.name << " cannot be explained yet (RetinaNet, SSD, Faster R-CNN, "
              << "YOLO and DETR can); layer methods use its backbone\n";
  }
  return s;
}

Detr* detr_of(Subject& s) {
  auto* net = dynamic_cast<NetworkDetector*>(s.detector.get());
  return net ? dynamic_cast<Detr*>(net->model().get()) : nullptr;
}

const std::vector<std::string>& detr_classes(Subject& s) {
  return dynamic_cast<NetworkDetector&>(*s.detector).options().class_names;
}

std::vector<int> first_n(const Dataset& d, int n) {
  std::vector<int> idx;
  for (int i = 0; i < static_cast<int>(d.images.size()) && (n <= 0 || i < n); ++i) idx.push_back(i);
  return idx;
}

}  // namespace detlab::cli

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab visualize's methods as a table: each one's entry point on the data set or on one image, the subject
// (a trained classifier or detector) and the options they read, bound from the command line (cmd_visualize.cpp).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/classifier_train.h"
#include "cli/options.h"
#include "detectors/crop_classifier.h"
#include "experiment/run.h"
#include "viz/classifier_model.h"
#include "viz/detection_target.h"
#include "viz/gallery.h"
#include "viz/top_patches.h"

namespace detlab::cli {

/// A trained network loaded from its model folder, with the ScoreModel the methods use.
struct Subject {
  RunConfig rc;
  std::string name;  // "classifier" or the detector family
  std::unique_ptr<CropClassifier> classifier;
  std::unique_ptr<ClassifierScoreModel> classifier_model;
  std::unique_ptr<Detector> detector;
  std::unique_ptr<DetectionExplainer> explainer;
  std::unique_ptr<BackboneScoreModel> backbone;  // detectors without an explainer: layer-only methods

  ScoreModel& model() {
    if (classifier_model) return *classifier_model;
    if (explainer) return *explainer;
    return *backbone;
  }
};

/// Loads the model folder with its config (MODEL/config.yaml unless given); InputError when it holds nothing
/// to explain (visualize_subject.cpp).
Subject load_subject(const std::string& model_dir, std::string config, const CommonOptions& common);

/// The subject's DETR network, or nullptr when it is not a DETR.
Detr* detr_of(Subject& s);
/// A DETR subject's class names.  requires: detr_of(s) != nullptr.
const std::vector<std::string>& detr_classes(Subject& s);

/// The first n images of d (n <= 0: all).
std::vector<int> first_n(const Dataset& d, int n);

/// The command line, bound into the viz Options: every flag's default is the library's own (GalleryOptions
/// gathers the per-method Options the gallery uses, so `visualize occlusion` and the gallery draw alike).
struct VisualizeArgs {
  std::string method, model_dir, config, out, split = "test", layer, target, channels, fill = "mean",
      colormap = "inferno", tsne_method = "auto", points;
  std::vector<std::string> files, extra_models;
  int count = 3, detection = 0, top_k = TopPatchesOptions{}.top_k;
  GalleryOptions g;
};

/// What a method works on: the model, the split, the output folder and the layer-only methods' layer.
struct Context {
  const VisualizeArgs& a;
  const CommonOptions& common;
  Subject& s;
  ScoreModel& model;
  const Dataset& data;
  const std::vector<int>& searched;
  std::filesystem::path dir;
  std::string layer_map;
  std::vector<int64_t> channels;
};

/// One picked image, its explained target (score column; -1: none) and the boxes drawn over it.
struct Picture {
  const ModelInput& in;
  int64_t target = -1;
  std::vector<Box> boxes;
  std::string base;  // output file stem
};

using DatasetMethod = std::string (*)(Context&);  // returns what it wrote
using ImageMethod = std::string (*)(Context&, const Picture&);  // returns what it wrote

struct Method {
  const char* name;
  const char* summary;
  DatasetMethod dataset = nullptr;  // runs once on the data set (for classifiers, when `image` is set too)
  ImageMethod image = nullptr;      // runs on each picked image
  bool explains_score = true;       // image methods: needs a target (a class or a detection)
};

/// Every method, in the order --help lists them.
const std::vector<Method>& methods();
/// "filters, activations, ..." and the --help block (one line per method).
std::string method_list();
std::string method_help();
/// InputError naming METHOD for an unknown name.
const Method& find_method(const std::string& name);

/// The gallery: every method on the first a.count images of data, for the subject and a.extra_models.
int run_gallery(VisualizeArgs& a, const CommonOptions& common, Subject s, const Dataset& data,
                const std::vector<int>& searched, const std::filesystem::path& dir);

/// The target of one image: the detection ranked a.detection (detectors) or the class (classifiers); false
/// when the image has no such detection.
bool choose_target(Context& c, const std::string& stem, Picture& p);

}  // namespace detlab::cli

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab visualize: the viz/ methods on a trained classifier or detector, as PNGs plus raw values.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "cli/classifier_train.h"
#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "detectors/crop_classifier.h"
#include "detectors/network_detector.h"
#include "experiment/run.h"
#include "train/runtime.h"
#include "viz/activations.h"
#include "viz/cam.h"
#include "viz/class_image.h"
#include "viz/classifier_model.h"
#include "viz/detection_target.h"
#include "viz/embeddings.h"
#include "viz/figures.h"
#include "viz/gallery.h"
#include "viz/grad_cam.h"
#include "viz/occlusion.h"
#include "viz/saliency.h"
#include "viz/top_patches.h"
#include "viz/tsne.h"

namespace detlab::cli {

namespace fs = std::filesystem;

namespace {

const char* kMethods =
    "filters, activations, top-patches, tsne, class-image, saliency, smoothgrad, occlusion, cam, grad-cam, gallery";

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
    s.classifier_model = std::make_unique<ClassifierScoreModel>(*s.classifier);
    s.name = "classifier";
    return s;
  }
  s.detector = load_trained(s.rc, model_dir);
  auto* net = dynamic_cast<NetworkDetector*>(s.detector.get());
  if (net == nullptr)
    throw InputError(model_dir, "--model",
                     "a '" + std::string(s.detector->name()) +
                         "' detector exposes no single network (staged pipelines: HOG+SVM and the staged R-CNN "
                         "compositions); for Faster R-CNN explanations train `type: faster_rcnn`");
  net->to_device(common.device);
  s.name = std::string(s.detector->name());
  s.explainer = make_detection_explainer(net->model(), net->options().transform, net->options().class_names, device);
  if (!s.explainer) {
    std::shared_ptr<Backbone> b = find_backbone(*net->model());
    if (!b) throw InputError(model_dir, "--model", "the " + s.name + " network has no `backbone` module");
    s.backbone = std::make_unique<BackboneScoreModel>(b, net->model(), net->options().transform, device);
    std::cerr << "note: detections of " << s.name << " cannot be explained yet (RetinaNet, SSD, Faster R-CNN, YOLO "
              << "can); layer methods use its backbone\n";
  }
  return s;
}

std::vector<int64_t> parse_channels(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw InputError("", "--channels", "expected comma-separated channel numbers, got '" + text + "'");
    }
  }
  return out;
}

/// The images to draw: command-line files, else the first `count` images of `split`.
struct Picked {
  std::vector<std::pair<std::string, cv::Mat>> images;  // stem, pixels
};

Picked pick_images(const std::vector<std::string>& files, const Dataset& split, int count) {
  Picked p;
  for (const std::string& f : files) {
    cv::Mat bgr = cv::imread(f, cv::IMREAD_COLOR);
    if (bgr.empty()) throw InputError(f, "", "cannot read image");
    p.images.emplace_back(fs::path(f).stem().string(), bgr);
  }
  if (files.empty())
    for (int i = 0; i < std::min<int>(count, static_cast<int>(split.images.size())); ++i)
      p.images.emplace_back(split.images[static_cast<size_t>(i)].name, split.load_image(static_cast<size_t>(i)));
  if (p.images.empty()) throw InputError("", "--images", "no images: the split is empty and no files were given");
  return p;
}

std::vector<int> first_n(const Dataset& d, int n) {
  std::vector<int> idx;
  for (int i = 0; i < static_cast<int>(d.images.size()) && (n <= 0 || i < n); ++i) idx.push_back(i);
  return idx;
}

}  // namespace

int cmd_visualize(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string method, model_dir, config, out, split = "test", layer, target, channels, fill = "mean", colormap = "inferno",
                                                  tsne_method = "auto";
  std::vector<std::string> files, extra_models;
  int count = 3, detection = 0, top_k = 8, max_patch = 64, size = 32, stride = 8, samples = 25, steps = 200, jitter = 4,
      blur_every = 4, image_size = 96, iterations = 1000, max_per_class = 300, pool = 0;
  float noise = 0.15f, alpha = 0.5f;
  double lr = 0.05, l2_decay = 0.01, blur_sigma = 0.5, perplexity = 30, theta = 0.5;
  bool softmax = false;
  po::options_description desc("detlab visualize options");
  add_common_options(desc, common);
  add_run_options(desc, common);
  desc.add_options()("method", po::value<std::string>(&method)->required(), kMethods)(
      "model,m", po::value<std::string>(&model_dir)->required(), "model folder (a classifier or a detector)")(
      "also", po::value<std::vector<std::string>>(&extra_models)->composing(),
      "gallery: another model folder to include (repeatable)")(
      "config", po::value<std::string>(&config), "experiment config (default: MODEL/config.yaml)")(
      "out,o", po::value<std::string>(&out)->required(), "output folder")(
      "images", po::value<std::vector<std::string>>(&files), "image files (default: the first --count of --split)")(
      "split", po::value<std::string>(&split)->default_value("test"), "data-set split for images, patches, t-SNE")(
      "count,n", po::value<int>(&count)->default_value(3), "images drawn from the split when none are given")(
      "pool", po::value<int>(&pool)->default_value(0), "images searched by top-patches / tsne (0: the whole split)")(
      "layer", po::value<std::string>(&layer), "layer (default: the method's; see the list printed on errors)")(
      "target", po::value<std::string>(&target), "classifier: class name or number (default: the best class other than background)")(
      "detection", po::value<int>(&detection)->default_value(0), "detector: which detection, by rank (0 = best)")(
      "channels", po::value<std::string>(&channels), "activations / top-patches: channels, e.g. 0,5,9")(
      "top-k", po::value<int>(&top_k)->default_value(8), "top-patches: patches per channel")(
      "max-patch", po::value<int>(&max_patch)->default_value(64),
      "top-patches: cap on the patch side, network-input pixels (0: the whole receptive field)")(
      "size", po::value<int>(&size)->default_value(32), "occlusion: patch side (network-input pixels)")(
      "stride", po::value<int>(&stride)->default_value(8), "occlusion: step (network-input pixels)")(
      "fill", po::value<std::string>(&fill)->default_value("mean"), "occlusion: mean, black or blur")(
      "softmax", po::bool_switch(&softmax), "occlusion: occlude the softmax probability (classifiers)")(
      "samples", po::value<int>(&samples)->default_value(25), "smoothgrad: noisy samples")(
      "noise", po::value<float>(&noise)->default_value(0.15f), "smoothgrad: noise / input range")(
      "steps", po::value<int>(&steps)->default_value(200), "class-image: ascent steps")(
      "lr", po::value<double>(&lr)->default_value(0.05), "class-image: normalized step size")(
      "l2-decay", po::value<double>(&l2_decay)->default_value(0.01), "class-image: L2 decay per step")(
      "jitter", po::value<int>(&jitter)->default_value(4), "class-image: max roll in pixels")(
      "blur-sigma", po::value<double>(&blur_sigma)->default_value(0.5), "class-image: Gaussian blur sigma (0: off)")(
      "blur-every", po::value<int>(&blur_every)->default_value(4), "class-image: steps between blurs")(
      "image-size", po::value<int>(&image_size)->default_value(96), "class-image (classifier): side of the image")(
      "perplexity", po::value<double>(&perplexity)->default_value(30), "tsne: perplexity")(
      "iterations", po::value<int>(&iterations)->default_value(1000), "tsne: iterations")(
      "tsne-method", po::value<std::string>(&tsne_method)->default_value("auto"), "tsne: auto, exact, barnes-hut")(
      "theta", po::value<double>(&theta)->default_value(0.5), "tsne: Barnes-Hut accuracy")(
      "max-per-class", po::value<int>(&max_per_class)->default_value(300), "tsne: points per class (0: all)")(
      "colormap", po::value<std::string>(&colormap)->default_value("inferno"), "inferno, viridis or magma")(
      "alpha", po::value<float>(&alpha)->default_value(0.5f), "heat-map opacity over the image");
  po::positional_options_description pos;
  pos.add("method", 1).add("images", -1);
  po::variables_map vm;
  if (!parse_args(args,
                  std::string("usage: detlab visualize METHOD --model DIR --out DIR [IMAGE...] [options]\n\n"
                              "Methods: ") + kMethods +
                      ".\nWrites OUT/<image>_<method>[_<target>].png (heat map over the image, colour bar, title),\n"
                      ".csv (raw values on the grid they were computed on: layer cells or network-input pixels) and\n"
                      ".json (method, layer, target, score, geometry). Classifiers explain a class (--target);\n"
                      "detectors explain one detection (--detection, by rank), its score as the detector computes it.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  static const std::vector<std::string> known = {"filters",    "activations", "top-patches", "tsne",     "class-image",
                                                 "saliency",   "smoothgrad",  "occlusion",   "cam",      "grad-cam",
                                                 "gallery"};
  if (std::find(known.begin(), known.end(), method) == known.end())
    throw InputError("", "METHOD", "unknown method '" + method + "' (" + kMethods + ")");
  if (!(alpha >= 0 && alpha <= 1)) throw InputError("", "--alpha", "must be in [0, 1]");
  if (count < 1) throw InputError("", "--count", "must be >= 1");
  FigureOptions fig;
  fig.colormap = parse_colormap(colormap);
  fig.alpha = alpha;
  TsneOptions to;
  to.perplexity = perplexity;
  to.iterations = iterations;
  to.theta = theta;
  to.seed = common.seed;
  if (tsne_method == "exact") to.method = TsneOptions::Method::kExact;
  else if (tsne_method == "barnes-hut") to.method = TsneOptions::Method::kBarnesHut;
  else if (tsne_method != "auto") throw InputError("", "--tsne-method", "expected auto, exact or barnes-hut");
  OcclusionOptions oo;
  oo.size = size;
  oo.stride = stride;
  oo.fill = parse_fill(fill);
  oo.softmax = softmax;
  if (size < 1 || stride < 1) throw InputError("", "--size", "--size and --stride must be >= 1");
  ClassImageOptions co;
  co.steps = steps;
  co.lr = lr;
  co.l2_decay = l2_decay;
  co.jitter = jitter;
  co.blur_sigma = blur_sigma;
  co.blur_every = blur_every;
  co.seed = common.seed;
  if (steps < 0 || !(lr > 0) || !(l2_decay >= 0 && l2_decay < 1) || jitter < 0)
    throw InputError("", "--steps", "class-image needs steps >= 0, lr > 0, 0 <= l2-decay < 1, jitter >= 0");
  seed_everything(common.seed);
  const fs::path dir(out);
  fs::create_directories(dir);

  Subject s = load_subject(model_dir, config, common);
  ScoreModel& model = s.model();
  const Dataset data = split_of(s.rc, split);
  const std::vector<int> searched = first_n(data, pool);

  if (method == "gallery") {
    GalleryOptions g;
    g.figure = fig;
    g.target = target;
    g.occlusion = oo;
    g.class_image = co;
    g.class_image_size = image_size;
    g.tsne = to;
    g.embedding_max_per_class = max_per_class;
    g.seed = common.seed;
    g.top_patch_images = pool;
    g.top_patch_max = max_patch;
    const std::vector<int> show = first_n(data, count);
    std::vector<std::pair<std::string, GalleryReport>> parts;
    std::vector<Subject> subjects;
    subjects.push_back(std::move(s));
    for (const std::string& m : extra_models) subjects.push_back(load_subject(m, "", common));
    for (Subject& sub : subjects) {
      if (sub.classifier) {
        parts.emplace_back("Classifier (" + sub.classifier->options().backbone + ")",
                           render_classifier_gallery(*sub.classifier, data, show, searched, dir, g));
      } else if (sub.explainer) {
        parts.emplace_back("Detector: " + sub.name,
                           render_detector_gallery(*sub.explainer, sub.name, data, show, searched, dir, g));
      } else {
        std::cerr << "gallery: skipping " << sub.name << " (no detection explainer for this family)\n";
      }
    }
    write_gallery_index(dir, parts);
    size_t pictures = 0;
    for (const auto& p : parts) pictures += p.second.pictures.size();
    std::cout << "wrote " << pictures << " pictures and " << (dir / "index.md").string() << "\n";
    return 0;
  }

  // Layer-only methods default to a map with useful resolution: the classifier's layer before the pooled one,
  // a detector's finest map (its coarsest FPN level is a few cells wide).
  const std::vector<std::string> all_layers = model.layers();
  const std::string layer_map = !layer.empty() ? layer
                                : s.classifier  ? all_layers.at(all_layers.size() >= 2 ? all_layers.size() - 2 : 0)
                                                : all_layers.front();

  // Data-set level methods.
  const std::vector<int64_t> chans = channels.empty() ? std::vector<int64_t>{} : parse_channels(channels);
  if (method == "filters") {
    save_filters(model, dir, "filters");
    std::cout << "wrote " << (dir / "filters.png").string() << "\n";
    return 0;
  }
  if (method == "top-patches") {
    TopPatchesOptions o;
    o.layer = layer_map;
    o.channels = chans;
    o.top_k = top_k;
    o.max_patch = max_patch;
    if (top_k < 1) throw InputError("", "--top-k", "must be >= 1");
    const TopPatches t = top_patches(model, data, searched, o);
    save_top_patches(t, data, dir, "top_patches_" + t.layer);
    std::cout << "wrote " << (dir / ("top_patches_" + t.layer + ".png")).string() << "\n";
    return 0;
  }
  if (method == "tsne") {
    Embeddings e;
    std::string what;
    if (s.classifier) {
      e = classifier_embeddings(*s.classifier, data, searched, max_per_class, common.seed);
      what = "classifier embeddings (" + s.classifier->net()->feature() + ", pooled)";
    } else {
      EmbeddingOptions eo;
      eo.layer = layer.empty() ? model.layers().front() : layer;
      eo.max_per_class = max_per_class;
      e = region_embeddings(model, data, searched, eo);
      what = s.name + " region features (" + eo.layer + ")";
    }
    const TsneResult r = tsne(e.features, to);
    save_tsne(r, e, dir, "tsne", "t-SNE of " + what);
    std::cout << "wrote " << (dir / "tsne.png").string() << " (" << e.features.size(0) << " points)\n";
    return 0;
  }
  if (method == "class-image" && s.classifier) {
    std::vector<ClassImageResult> results;
    std::vector<std::string> names;
    const std::vector<std::string> classes = model.score_names();
    for (int64_t k = 0; k < static_cast<int64_t>(classes.size()); ++k) {
      if (!target.empty() && k != model.score_index(target)) continue;
      ClassImageOptions o = co;
      o.target = k;
      o.seed = common.seed + static_cast<uint64_t>(k);
      results.push_back(
          class_image(model, noise_image(image_size, image_size, 0.1, common.seed + 100 + k, model.device()), o));
      names.push_back(classes[static_cast<size_t>(k)]);
    }
    save_class_images(results, names, model.transform(), dir, "class_images", "Class images (gradient ascent)");
    std::cout << "wrote " << (dir / "class_images.png").string() << "\n";
    return 0;
  }

  // Per-image methods.
  const Picked picked = pick_images(files, data, count);
  int written = 0;
  for (const auto& [stem, bgr] : picked.images) {
    const ModelInput in = make_input(bgr, model);
    std::vector<Box> boxes;
    int64_t tgt = -1;
    std::string suffix;
    if (s.explainer && method != "activations") {
      s.explainer->clear_selection();
      const std::vector<ExplainedDetection> dets = s.explainer->detections(in);
      std::cout << stem << ": " << dets.size() << " detections";
      for (size_t i = 0; i < std::min<size_t>(5, dets.size()); ++i) std::cout << (i ? ", " : ": ") << "#" << i << " " << dets[i].name;
      std::cout << "\n";
      if (detection < 0 || detection >= static_cast<int>(dets.size())) {
        std::cerr << stem << ": no detection #" << detection << "; skipped\n";
        continue;
      }
      s.explainer->select(dets[static_cast<size_t>(detection)], in.tensor.size(2), in.tensor.size(3));
      boxes.push_back(dets[static_cast<size_t>(detection)].image_box);
      tgt = 0;
      suffix = "_det" + std::to_string(detection);
    } else if (s.classifier && method != "activations") {
      if (!target.empty()) {
        tgt = model.score_index(target);
      } else {  // the best object class: "background" wins most whole images and is rarely what one asks about
        torch::NoGradGuard no_grad;
        model.module().eval();
        const torch::Tensor scores = model.forward(in.tensor, nullptr)[0];
        tgt = scores.narrow(0, 0, scores.size(0) - 1).argmax().item<int64_t>();
      }
      suffix = "_" + model.score_names()[static_cast<size_t>(tgt)];
    } else if (!s.classifier && method != "activations") {
      throw InputError(model_dir, "--model", "method " + method + " explains a score; " + s.name +
                                                 " detections are not supported yet (activations, filters, "
                                                 "top-patches and tsne work)");
    }
    const std::string base = stem + "_" + method + suffix;
    if (method == "activations") {
      ActivationOptions o;
      o.layer = layer_map;
      o.channels = chans;
      save_activations(activations(model, in.tensor, o), model, in, dir, base, fig);
    } else if (method == "cam") {
      save_heatmap(cam(model, in.tensor, tgt), model, in, dir, base, fig, boxes);
    } else if (method == "grad-cam") {
      GradCamOptions o;
      o.layer = layer;
      o.target = tgt;
      save_heatmap(grad_cam(model, in.tensor, o), model, in, dir, base, fig, boxes);
    } else if (method == "saliency" || method == "smoothgrad") {
      SaliencyOptions o;
      o.target = tgt;
      o.samples = method == "smoothgrad" ? samples : 0;
      o.noise = noise;
      o.seed = common.seed;
      if (method == "smoothgrad" && samples < 1) throw InputError("", "--samples", "must be >= 1");
      save_heatmap(saliency(model, in.tensor, o), model, in, dir, base, fig, boxes);
    } else if (method == "occlusion") {
      OcclusionOptions o = oo;
      o.target = tgt;
      save_heatmap(occlusion(model, in.tensor, in.meta.height, in.meta.width, o).map, model, in, dir, base, fig, boxes,
                   "patch " + std::to_string(o.size) + " px, stride " + std::to_string(o.stride) + " (network input)");
    } else if (method == "class-image") {  // a detection: ascent on its score from the image itself
      ClassImageOptions o = co;
      o.target = 0;
      o.jitter = 0;  // the anchor is tied to a position
      save_class_images({class_image(model, in.tensor, o)}, {model.score_names()[0]}, model.transform(), dir, base,
                        "Gradient ascent on the detection's score");
    } else {
      throw InputError("", "METHOD", "unknown method '" + method + "' (" + kMethods + ")");
    }
    std::cout << "wrote " << (dir / (base + ".png")).string() << "\n";
    ++written;
  }
  return written > 0 ? 0 : 2;
}

}  // namespace detlab::cli

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab visualize: the viz/ methods on a trained classifier or detector, as PNGs plus raw values.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "cli/visualize_methods.h"
#include "core/error.h"
#include "data/image_header.h"
#include "tensor/runtime.h"
#include "viz/figures.h"
#include "viz/occlusion.h"
#include "viz/render.h"

namespace detlab::cli {

namespace fs = std::filesystem;

namespace {

/// "x,y,x,y,..." -> points; InputError naming --points otherwise.
std::vector<cv::Point2f> parse_points(const std::string& text) {
  std::vector<float> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stof(item, &used));
      if (used != item.size() || !std::isfinite(v.back())) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw InputError("", "--points", "expected x,y pairs of numbers, got '" + text + "'");
    }
  }
  if (v.empty() || v.size() % 2 != 0) throw InputError("", "--points", "expected x,y pairs, got '" + text + "'");
  std::vector<cv::Point2f> out;
  for (size_t i = 0; i < v.size(); i += 2) out.emplace_back(v[i], v[i + 1]);
  return out;
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
    cv::Mat bgr = decode_image(f, cv::IMREAD_COLOR);
    if (bgr.empty()) throw InputError(f, "", "cannot read image");
    p.images.emplace_back(fs::path(f).stem().string(), bgr);
  }
  if (files.empty())
    for (int i = 0; i < std::min<int>(count, static_cast<int>(split.images.size())); ++i)
      p.images.emplace_back(split.images[static_cast<size_t>(i)].name, split.load_image(static_cast<size_t>(i)));
  if (p.images.empty()) throw InputError("", "--images", "no images: the split is empty and no files were given");
  return p;
}

void check_args(const VisualizeArgs& a) {
  const GalleryOptions& g = a.g;
  if (!(g.figure.alpha >= 0 && g.figure.alpha <= 1)) throw InputError("", "--alpha", "must be in [0, 1]");
  if (a.count < 1) throw InputError("", "--count", "must be >= 1");
  if (g.occlusion.size < 1 || g.occlusion.stride < 1) throw InputError("", "--size", "--size and --stride must be >= 1");
  if (g.attention.max_objects < 0) throw InputError("", "--objects", "must be >= 0");
  if (!(g.attention.min_score >= 0 && g.attention.min_score <= 1)) throw InputError("", "--min-score", "must be in [0, 1]");
  if (a.method == "smoothgrad" && g.smoothgrad.samples < 1) throw InputError("", "--samples", "must be >= 1");
  const ClassImageOptions& co = g.class_image;
  if (co.steps < 0 || !(co.lr > 0) || !(co.l2_decay >= 0 && co.l2_decay < 1) || co.jitter < 0)
    throw InputError("", "--steps", "class-image needs steps >= 0, lr > 0, 0 <= l2-decay < 1, jitter >= 0");
}


}  // namespace

int cmd_visualize(const std::vector<std::string>& args) {
  CommonOptions common;
  VisualizeArgs a;
  GalleryOptions& g = a.g;
  po::options_description desc("detlab visualize options");
  add_common_options(desc, common);
  add_run_options(desc, common);
  const std::string list = method_list();
  desc.add_options()("method", po::value<std::string>(&a.method)->required(), list.c_str())(
      "model,m", po::value<std::string>(&a.model_dir)->required(), "model folder (a classifier or a detector)")(
      "also", po::value<std::vector<std::string>>(&a.extra_models)->composing(),
      "gallery: another model folder to include (repeatable)")(
      "config", po::value<std::string>(&a.config), "experiment config (default: MODEL/config.yaml)")(
      "out,o", po::value<std::string>(&a.out)->required(), "output folder")(
      "images", po::value<std::vector<std::string>>(&a.files), "image files (default: the first --count of --split)")(
      "split", po::value<std::string>(&a.split)->default_value(a.split), "data-set split for images, patches, t-SNE")(
      "count,n", po::value<int>(&a.count)->default_value(a.count), "images drawn from the split when none are given")(
      "pool", po::value<int>(&g.top_patch_images)->default_value(g.top_patch_images),
      "images searched by top-patches / tsne (0: the whole split)")(
      "layer", po::value<std::string>(&a.layer), "layer (default: the method's; see the list printed on errors)")(
      "target", po::value<std::string>(&a.target),
      "classifier: class name or number (default: the best class other than background)")(
      "detection", po::value<int>(&a.detection)->default_value(a.detection),
      "detector: which detection, by rank (0 = best)")(
      "channels", po::value<std::string>(&a.channels), "activations / top-patches: channels, e.g. 0,5,9")(
      "top-k", po::value<int>(&a.top_k)->default_value(a.top_k), "top-patches: patches per channel")(
      "max-patch", po::value<int>(&g.top_patch_max)->default_value(g.top_patch_max),
      "top-patches: cap on the patch side, network-input pixels (0: the whole receptive field)")(
      "size", po::value<int>(&g.occlusion.size)->default_value(g.occlusion.size),
      "occlusion: patch side (network-input pixels)")(
      "stride", po::value<int>(&g.occlusion.stride)->default_value(g.occlusion.stride),
      "occlusion: step (network-input pixels)")(
      "fill", po::value<std::string>(&a.fill)->default_value(a.fill), "occlusion: mean, black or blur")(
      "softmax", po::bool_switch(&g.occlusion.softmax), "occlusion: occlude the softmax probability (classifiers)")(
      "samples", po::value<int>(&g.smoothgrad.samples)->default_value(g.smoothgrad.samples), "smoothgrad: noisy samples")(
      "noise", po::value<float>(&g.smoothgrad.noise)->default_value(g.smoothgrad.noise),
      "smoothgrad: noise / input range")(
      "steps", po::value<int>(&g.class_image.steps)->default_value(g.class_image.steps), "class-image: ascent steps")(
      "lr", po::value<double>(&g.class_image.lr)->default_value(g.class_image.lr), "class-image: normalized step size")(
      "l2-decay", po::value<double>(&g.class_image.l2_decay)->default_value(g.class_image.l2_decay),
      "class-image: L2 decay per step")(
      "jitter", po::value<int>(&g.class_image.jitter)->default_value(g.class_image.jitter),
      "class-image: max roll in pixels")(
      "blur-sigma", po::value<double>(&g.class_image.blur_sigma)->default_value(g.class_image.blur_sigma),
      "class-image: Gaussian blur sigma (0: off)")(
      "blur-every", po::value<int>(&g.class_image.blur_every)->default_value(g.class_image.blur_every),
      "class-image: steps between blurs")(
      "image-size", po::value<int>(&g.class_image_size)->default_value(g.class_image_size),
      "class-image (classifier): side of the image")(
      "perplexity", po::value<double>(&g.tsne.perplexity)->default_value(g.tsne.perplexity), "tsne: perplexity")(
      "iterations", po::value<int>(&g.tsne.iterations)->default_value(g.tsne.iterations), "tsne: iterations")(
      "tsne-method", po::value<std::string>(&a.tsne_method)->default_value(a.tsne_method),
      "tsne: auto, exact, barnes-hut")(
      "theta", po::value<double>(&g.tsne.theta)->default_value(g.tsne.theta), "tsne: Barnes-Hut accuracy")(
      "max-per-class", po::value<int>(&g.embedding_max_per_class)->default_value(g.embedding_max_per_class),
      "tsne: points per class (0: all)")(
      "points", po::value<std::string>(&a.points),
      "attention: encoder reference points x,y[,x,y...] in image pixels (default: the objects' centres)")(
      "min-score", po::value<double>(&g.attention.min_score)->default_value(g.attention.min_score),
      "attention: the queries shown score at least this")(
      "objects", po::value<int>(&g.attention.max_objects)->default_value(g.attention.max_objects),
      "attention: at most this many queries")(
      "colormap", po::value<std::string>(&a.colormap)->default_value(a.colormap), "inferno, viridis or magma")(
      "alpha", po::value<float>(&g.figure.alpha)->default_value(g.figure.alpha), "heat-map opacity over the image");
  po::positional_options_description pos;
  pos.add("method", 1).add("images", -1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab visualize METHOD --model DIR --out DIR [IMAGE...] [options]\n\nMethods:\n" +
                      method_help() +
                      "\nWrites OUT/<image>_<method>[_<target>].png (heat map over the image, colour bar, title),\n"
                      ".csv (raw values on the grid they were computed on: layer cells or network-input pixels) and\n"
                      ".json (method, layer, target, score, geometry). Classifiers explain a class (--target);\n"
                      "detectors explain one detection (--detection, by rank), its score as the detector computes it.\n"
                      "attention (DETR) writes OUT/<image>_attention_decoder.png and _encoder.png.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const Method& method = find_method(a.method);
  check_args(a);
  g.figure.colormap = parse_colormap(a.colormap);
  g.occlusion.fill = parse_fill(a.fill);
  if (!a.points.empty()) g.attention.points = parse_points(a.points);
  g.tsne.seed = common.seed;
  g.class_image.seed = common.seed;
  if (a.tsne_method == "exact") g.tsne.method = TsneOptions::Method::kExact;
  else if (a.tsne_method == "barnes-hut") g.tsne.method = TsneOptions::Method::kBarnesHut;
  else if (a.tsne_method != "auto") throw InputError("", "--tsne-method", "expected auto, exact or barnes-hut");
  seed_everything(common.seed);
  const fs::path dir(a.out);
  fs::create_directories(dir);

  Subject s = load_subject(a.model_dir, a.config, common);
  const Dataset data = split_of(s.rc, a.split);
  const std::vector<int> searched = first_n(data, g.top_patch_images);
  if (method.dataset == nullptr && method.image == nullptr) return run_gallery(a, common, std::move(s), data, searched, dir);

  ScoreModel& model = s.model();
  // Layer-only methods default to a map with useful resolution: the classifier's layer before the pooled one,
  // a detector's finest map (its coarsest FPN level is a few cells wide).
  const std::vector<std::string> all_layers = model.layers();
  Context c{a,
            common,
            s,
            model,
            data,
            searched,
            dir,
            !a.layer.empty() ? a.layer
            : all_layers.empty() ? std::string()  // a staged pipeline scored by its stages: no layers
            : s.classifier       ? all_layers.at(all_layers.size() >= 2 ? all_layers.size() - 2 : 0)
                                 : all_layers.front(),
            a.channels.empty() ? std::vector<int64_t>{} : parse_channels(a.channels)};
  if (method.dataset && (method.image == nullptr || s.classifier)) {
    const std::string wrote = method.dataset(c);  // before printing: a refusal is its own line
    std::cout << "wrote " << wrote << "\n";
    return 0;
  }

  const Picked picked = pick_images(a.files, data, a.count);
  int written = 0;
  for (const auto& [stem, bgr] : picked.images) {
    const ModelInput in = make_input(bgr, model, stem);
    Picture p{in, -1, {}, stem + "_" + a.method};
    if (method.explains_score && !choose_target(c, stem, p)) continue;
    const std::string wrote = method.image(c, p);
    std::cout << "wrote " << wrote << "\n";
    ++written;
  }
  return written > 0 ? 0 : 2;
}

}  // namespace detlab::cli

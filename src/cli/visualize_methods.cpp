// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab visualize's methods (see visualize_methods.h): each method's entry point, the gallery, the target.
#include "cli/visualize_methods.h"

#include <algorithm>
#include <iostream>

#include "core/error.h"
#include "nn/detr/detr.h"
#include "viz/activations.h"
#include "viz/cam.h"
#include "viz/class_image.h"
#include "viz/detr_attention.h"
#include "viz/embeddings.h"
#include "viz/figures.h"
#include "viz/grad_cam.h"
#include "viz/occlusion.h"
#include "viz/saliency.h"
#include "viz/tsne.h"

namespace detlab::cli {

namespace fs = std::filesystem;

namespace {

std::string run_filters(Context& c) {
  save_filters(c.model, c.dir, "filters");
  return (c.dir / "filters.png").string();
}

std::string run_top_patches(Context& c) {
  TopPatchesOptions o;
  o.layer = c.layer_map;
  o.channels = c.channels;
  o.top_k = c.a.top_k;
  o.max_patch = c.a.g.top_patch_max;
  if (o.top_k < 1) throw InputError("", "--top-k", "must be >= 1");
  const TopPatches t = top_patches(c.model, c.data, c.searched, o);
  save_top_patches(t, c.data, c.dir, "top_patches_" + t.layer);
  return (c.dir / ("top_patches_" + t.layer + ".png")).string();
}

std::string run_tsne(Context& c) {
  Embeddings e;
  std::string what;
  if (c.s.classifier) {
    e = classifier_embeddings(c.s.classifier->view(), c.data, c.searched, c.a.g.embedding_max_per_class, c.common.seed);
    what = "classifier embeddings (" + c.s.classifier->net()->feature() + ", pooled)";
  } else {
    EmbeddingOptions eo;
    eo.layer = c.a.layer.empty() ? c.model.layers().front() : c.a.layer;
    eo.max_per_class = c.a.g.embedding_max_per_class;
    e = region_embeddings(c.model, c.data, c.searched, eo);
    what = c.s.name + " region features (" + eo.layer + ")";
  }
  if (e.features.size(0) < kTsneMinPoints)
    throw InputError("", "--pool", std::to_string(e.features.size(0)) + " points: t-SNE needs at least " +
                                       std::to_string(kTsneMinPoints) + " (search more images)");
  const TsneResult r = tsne(e.features, c.a.g.tsne);
  save_tsne(r, e, c.dir, "tsne", "t-SNE of " + what);
  return (c.dir / "tsne.png").string() + " (" + std::to_string(e.features.size(0)) + " points)";
}

std::string run_class_images(Context& c) {  // a classifier: one image per class, from noise
  std::vector<ClassImageResult> results;
  std::vector<std::string> names;
  const std::vector<std::string> classes = c.model.score_names();
  const int side = c.a.g.class_image_size;
  for (int64_t k = 0; k < static_cast<int64_t>(classes.size()); ++k) {
    if (!c.a.target.empty() && k != c.model.score_index(c.a.target)) continue;
    ClassImageOptions o = c.a.g.class_image;
    o.target = k;
    o.seed = c.common.seed + static_cast<uint64_t>(k);
    results.push_back(class_image(c.model, noise_image(side, side, 0.1, c.common.seed + 100 + k, c.model.device()), o));
    names.push_back(classes[static_cast<size_t>(k)]);
  }
  save_class_images(results, names, c.model.transform(), c.dir, "class_images", "Class images (gradient ascent)");
  return (c.dir / "class_images.png").string();
}

std::string png(const Context& c, const Picture& p) { return (c.dir / (p.base + ".png")).string(); }

std::string image_activations(Context& c, const Picture& p) {
  ActivationOptions o;
  o.layer = c.layer_map;
  o.channels = c.channels;
  save_activations(activations(c.model, p.in.tensor, o), c.model, p.in, c.dir, p.base, c.a.g.figure);
  return png(c, p);
}

std::string image_cam(Context& c, const Picture& p) {
  save_heatmap(cam(c.model, p.in.tensor, p.target), c.model, p.in, c.dir, p.base, c.a.g.figure, p.boxes);
  return png(c, p);
}

std::string image_grad_cam(Context& c, const Picture& p) {
  if (c.s.explainer && c.s.explainer->layers().empty()) {  // a region scored through features of its own
    const std::optional<Heatmap> h = c.s.explainer->region_grad_cam(p.in.tensor);
    DETLAB_CHECK(h.has_value(), "an explainer without layers must compute region Grad-CAM");
    save_heatmap(*h, c.model, p.in, c.dir, p.base, c.a.g.figure, p.boxes,
                 "the per-cell terms of the linear score over the region's features");
    return png(c, p);
  }
  GradCamOptions o;
  o.layer = c.a.layer;
  o.target = p.target;
  save_heatmap(grad_cam(c.model, p.in.tensor, o), c.model, p.in, c.dir, p.base, c.a.g.figure, p.boxes);
  return png(c, p);
}

std::string saliency_with(Context& c, const Picture& p, int samples) {
  SaliencyOptions o = c.a.g.smoothgrad;
  o.target = p.target;
  o.samples = samples;
  o.seed = c.common.seed;
  save_heatmap(saliency(c.model, p.in.tensor, o), c.model, p.in, c.dir, p.base, c.a.g.figure, p.boxes);
  return png(c, p);
}
std::string image_saliency(Context& c, const Picture& p) { return saliency_with(c, p, 0); }
std::string image_smoothgrad(Context& c, const Picture& p) { return saliency_with(c, p, c.a.g.smoothgrad.samples); }

std::string image_occlusion(Context& c, const Picture& p) {
  OcclusionOptions o = c.a.g.occlusion;
  o.target = p.target;
  save_heatmap(occlusion(c.model, p.in.tensor, p.in.meta.height, p.in.meta.width, o).map, c.model, p.in, c.dir, p.base,
               c.a.g.figure, p.boxes,
               "patch " + std::to_string(o.size) + " px, stride " + std::to_string(o.stride) + " (network input)");
  return png(c, p);
}

std::string image_class_image(Context& c, const Picture& p) {  // a detection: ascent on its score from the image
  ClassImageOptions o = c.a.g.class_image;
  o.target = 0;
  o.jitter = 0;  // the anchor is tied to a position
  save_class_images({class_image(c.model, p.in.tensor, o)}, {c.model.score_names()[0]}, c.model.transform(), c.dir,
                    p.base, "Gradient ascent on the detection's score");
  return png(c, p);
}

std::string image_attention(Context& c, const Picture& p) {  // DETR's Figs. 3 and 6
  Detr* detr = detr_of(c.s);
  if (detr == nullptr)
    throw InputError(c.a.model_dir, "--model", "attention reads a DETR's transformer; this is a " + c.s.name + " model");
  const DetrAttention a = detr_attention(*detr, p.in, c.a.g.attention);
  save_detr_attention(a, p.in, detr_classes(c.s), c.dir, p.base, c.a.g.figure.colormap);
  std::string wrote;
  if (!a.objects.empty()) wrote = (c.dir / (p.base + "_decoder.png")).string();
  if (!a.points.empty()) wrote += (wrote.empty() ? "" : ", ") + (c.dir / (p.base + "_encoder.png")).string();
  if (wrote.empty()) wrote = (c.dir / (p.base + ".json")).string() + " (no query scored " +
                             std::to_string(c.a.g.attention.min_score) + " or more)";
  return wrote;
}

}  // namespace

// The gallery (no dataset / image function) is run_gallery.
const std::vector<Method>& methods() {
  static const std::vector<Method> table = {
      {"filters", "the first layer's filters as images", run_filters, nullptr, false},
      {"activations", "a layer's channels on each image", nullptr, image_activations, false},
      {"top-patches", "the patches of the split that excite each channel most", run_top_patches, nullptr, false},
      {"tsne", "t-SNE of pooled (classifier) or region (detector) features", run_tsne, nullptr, false},
      {"class-image", "gradient ascent: a class from noise, or a detection's score", run_class_images,
       image_class_image, true},
      {"saliency", "|d score / d pixel| (Simonyan et al. 2014)", nullptr, image_saliency, true},
      {"smoothgrad", "saliency averaged over noisy copies (Smilkov et al. 2017)", nullptr, image_smoothgrad, true},
      {"occlusion", "score drop under a sliding grey patch (Zeiler & Fergus 2014)", nullptr, image_occlusion, true},
      {"cam", "class activation map of a GAP + linear head (Zhou et al. 2016)", nullptr, image_cam, true},
      {"grad-cam", "gradient-weighted class activation map (Selvaraju et al. 2017)", nullptr, image_grad_cam, true},
      {"attention", "DETR: each object's decoder attention, encoder attention at points (Carion et al. 2020)",
       nullptr, image_attention, false},
      {"gallery", "every method on a few images, for one or more models, with index.md", nullptr, nullptr, false},
  };
  return table;
}

std::string method_list() {
  std::string out;
  for (const Method& m : methods()) out += (out.empty() ? "" : ", ") + std::string(m.name);
  return out;
}

std::string method_help() {
  std::string out;
  for (const Method& m : methods()) {
    std::string name = m.name;
    name.resize(13, ' ');
    out += "  " + name + m.summary + "\n";
  }
  return out;
}

const Method& find_method(const std::string& name) {
  for (const Method& m : methods())
    if (name == m.name) return m;
  throw InputError("", "METHOD", "unknown method '" + name + "' (" + method_list() + ")");
}

int run_gallery(VisualizeArgs& a, const CommonOptions& common, Subject s, const Dataset& data,
                const std::vector<int>& searched, const fs::path& dir) {
  a.g.target = a.target;
  a.g.seed = common.seed;
  const std::vector<int> show = first_n(data, a.count);
  std::vector<std::pair<std::string, GalleryReport>> parts;
  std::vector<Subject> subjects;
  subjects.push_back(std::move(s));
  for (const std::string& m : a.extra_models) subjects.push_back(load_subject(m, "", common));
  for (Subject& sub : subjects) {
    if (sub.classifier) {
      parts.emplace_back("Classifier (" + sub.classifier->options().backbone + ")",
                         render_classifier_gallery(sub.classifier->view(), data, show, searched, dir, a.g));
    } else if (sub.explainer && sub.explainer->layers().empty()) {
      std::cerr << "gallery: skipping " << sub.name << " (no network layers: detlab visualize occlusion and "
                << "grad-cam explain its detections)\n";
    } else if (sub.explainer) {
      GalleryReport r = render_detector_gallery(*sub.explainer, sub.name, data, show, searched, dir, a.g);
      if (Detr* detr = detr_of(sub)) {  // and the paper's attention figures
        const GalleryReport att =
            render_detr_gallery(*detr, *sub.explainer, detr_classes(sub), sub.name, data, show, dir, a.g);
        r.pictures.insert(r.pictures.end(), att.pictures.begin(), att.pictures.end());
        for (const auto& [m, sec] : att.seconds) r.seconds[m] += sec;
        for (const auto& [m, n] : att.runs) r.runs[m] += n;
      }
      parts.emplace_back("Detector: " + sub.name, std::move(r));
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

bool choose_target(Context& c, const std::string& stem, Picture& p) {
  if (c.s.explainer) {
    c.s.explainer->clear_selection();
    const std::vector<ExplainedDetection> dets = c.s.explainer->detections(p.in);
    std::cout << stem << ": " << dets.size() << " detections";
    for (size_t i = 0; i < std::min<size_t>(5, dets.size()); ++i)
      std::cout << (i ? ", " : ": ") << "#" << i << " " << dets[i].name;
    std::cout << "\n";
    const int d = c.a.detection;
    if (d < 0 || d >= static_cast<int>(dets.size())) {
      std::cerr << stem << ": no detection #" << d << "; skipped\n";
      return false;
    }
    c.s.explainer->select(dets[static_cast<size_t>(d)], p.in.tensor.size(2), p.in.tensor.size(3));
    p.boxes.push_back(dets[static_cast<size_t>(d)].image_box);
    p.target = 0;
    p.base += "_det" + std::to_string(d);
    return true;
  }
  if (!c.s.classifier)
    throw InputError(c.a.model_dir, "--model", "method " + c.a.method + " explains a score; " + c.s.name +
                                                   " detections are not supported yet (activations, filters, "
                                                   "top-patches and tsne work)");
  if (!c.a.target.empty()) {
    p.target = c.model.score_index(c.a.target);
  } else {  // the best object class: "background" wins most whole images and is rarely what one asks about
    torch::NoGradGuard no_grad;
    c.model.module().eval();
    const torch::Tensor scores = c.model.forward(p.in.tensor, nullptr)[0];
    p.target = scores.narrow(0, 0, scores.size(0) - 1).argmax().item<int64_t>();
  }
  p.base += "_" + c.model.score_names()[static_cast<size_t>(p.target)];
  return true;
}


}  // namespace detlab::cli

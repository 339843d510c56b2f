// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The gallery: every method, a few images, one folder per network, an index.
#include "viz/gallery.h"

#include <chrono>
#include <iostream>
#include <type_traits>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/activations.h"
#include "viz/cam.h"
#include "viz/classifier_model.h"
#include "viz/embeddings.h"
#include "viz/grad_cam.h"
#include "viz/top_patches.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

/// Times one method and records its picture.
class Recorder {
 public:
  Recorder(GalleryReport& report, fs::path dir, std::string prefix)
      : report_(report), dir_(std::move(dir)), prefix_(std::move(prefix)) {}

  /// f(dir, stem) draws the picture; one that returns false drew none (and said why).
  template <class F>
  void run(const std::string& method, const std::string& stem, const std::string& caption, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    bool drawn = true;
    if constexpr (std::is_same_v<decltype(f(dir_, stem)), bool>) drawn = f(dir_, stem);
    else f(dir_, stem);
    report_.seconds[method] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++report_.runs[method];
    if (drawn) report_.pictures.emplace_back(prefix_ + "/" + stem + ".png", caption);
  }

 private:
  GalleryReport& report_;
  fs::path dir_;
  std::string prefix_;
};

bool enough_for_tsne(const Embeddings& e) {
  if (e.features.size(0) >= kTsneMinPoints) return true;
  std::cerr << "gallery: t-SNE skipped: " << e.features.size(0) << " points, it needs at least " << kTsneMinPoints
            << " (search more images: --pool)\n";
  return false;
}

std::string second_to_last(const std::vector<std::string>& layers) {
  return layers.size() >= 2 ? layers[layers.size() - 2] : layers.back();
}

}  // namespace

GalleryReport render_classifier_gallery(const ClassifierView& classifier, const Dataset& data,
                                        const std::vector<int>& show, const std::vector<int>& pool,
                                        const fs::path& out, const GalleryOptions& opts) {
  GalleryReport report;
  const fs::path dir = out / "classifier";
  fs::create_directories(dir);
  Recorder rec(report, dir, "classifier");
  ClassifierScoreModel model(classifier);
  const std::vector<std::string> classes = model.score_names();
  const int64_t objects = static_cast<int64_t>(classes.size()) - 1;  // background is last

  rec.run("filters", "filters", "First-layer filters of the classifier", [&](const fs::path& d, const std::string& s) {
    save_filters(model, d, s);
  });
  std::vector<int> searched = pool;
  if (opts.top_patch_images > 0 && static_cast<int>(searched.size()) > opts.top_patch_images)
    searched.resize(static_cast<size_t>(opts.top_patch_images));
  const std::string last = model.default_layer(), patch_layer = second_to_last(model.layers());
  rec.run("top_patches", "top_patches_" + patch_layer, "Patches that excite channels 0-7 of " + patch_layer + " most",
          [&](const fs::path& d, const std::string& s) {
            TopPatchesOptions o;
            o.layer = patch_layer;
            o.max_patch = opts.top_patch_max;
            save_top_patches(top_patches(model, data, searched, o), data, d, s);
          });
  rec.run("tsne", "tsne", "t-SNE of the classifier's pooled features of ground-truth (and background) crops",
          [&](const fs::path& d, const std::string& s) {
            const Embeddings e = classifier_embeddings(classifier, data, pool, opts.embedding_max_per_class, opts.seed);
            if (!enough_for_tsne(e)) return false;
            save_tsne(tsne(e.features, opts.tsne), e, d, s, "t-SNE of classifier embeddings (" + last + ", pooled)");
            return true;
          });
  rec.run("class_image", "class_images", "Class visualization by gradient ascent, one image per class",
          [&](const fs::path& d, const std::string& s) {
            std::vector<ClassImageResult> results;
            for (int64_t k = 0; k < static_cast<int64_t>(classes.size()); ++k) {
              ClassImageOptions o = opts.class_image;
              o.target = k;
              o.seed = opts.seed + static_cast<uint64_t>(k);
              const torch::Tensor start = noise_image(opts.class_image_size, opts.class_image_size, 0.1,
                                                      opts.seed + 100 + static_cast<uint64_t>(k), model.device());
              results.push_back(class_image(model, start, o));
            }
            save_class_images(results, classes, model.transform(), d, s, "Class images (gradient ascent on the input)");
          });

  for (int idx : show) {
    const std::string name = data.images.at(static_cast<size_t>(idx)).name;
    const auto at = static_cast<size_t>(idx);
    const ModelInput in = make_input(data.load_image(at), model, data.images.at(at).name);
    int64_t target = 0;  // the best object class ("background" usually wins on a whole image: not worth explaining)
    if (!opts.target.empty()) {
      target = model.score_index(opts.target, "gallery target");
    } else {
      torch::NoGradGuard no_grad;
      model.module().eval();
      target = model.forward(in.tensor, nullptr)[0].narrow(0, 0, objects).argmax().item<int64_t>();
    }
    const std::string tname = classes.at(static_cast<size_t>(target));
    rec.run("activations", name + "_activations", name + ": activations of " + second_to_last(model.layers()),
            [&](const fs::path& d, const std::string& s) {
              ActivationOptions o;
              o.layer = second_to_last(model.layers());
              save_activations(activations(model, in.tensor, o), model, in, d, s, opts.figure);
            });
    for (int64_t k = 0; k < objects; ++k) {
      const std::string cname = classes[static_cast<size_t>(k)];
      rec.run("cam", name + "_cam_" + cname, name + ": CAM of " + cname, [&](const fs::path& d, const std::string& s) {
        save_heatmap(cam(model, in.tensor, k), model, in, d, s, opts.figure);
      });
      rec.run("grad_cam", name + "_grad_cam_" + cname, name + ": Grad-CAM of " + cname + " (" + last + ")",
              [&](const fs::path& d, const std::string& s) {
                GradCamOptions o;
                o.target = k;
                save_heatmap(grad_cam(model, in.tensor, o), model, in, d, s, opts.figure);
              });
    }
    rec.run("saliency", name + "_saliency_" + tname, name + ": vanilla gradient of " + tname,
            [&](const fs::path& d, const std::string& s) {
              SaliencyOptions o;
              o.target = target;
              save_heatmap(saliency(model, in.tensor, o), model, in, d, s, opts.figure);
            });
    rec.run("smoothgrad", name + "_smoothgrad_" + tname, name + ": SmoothGrad of " + tname,
            [&](const fs::path& d, const std::string& s) {
              SaliencyOptions o = opts.smoothgrad;
              o.target = target;
              o.seed = opts.seed;
              save_heatmap(saliency(model, in.tensor, o), model, in, d, s, opts.figure);
            });
    rec.run("occlusion", name + "_occlusion_" + tname, name + ": occlusion of " + tname + " (softmax probability)",
            [&](const fs::path& d, const std::string& s) {
              OcclusionOptions o = opts.occlusion;
              o.target = target;
              o.softmax = true;
              const OcclusionResult r = occlusion(model, in.tensor, in.meta.height, in.meta.width, o);
              save_heatmap(r.map, model, in, d, s, opts.figure, {},
                           "patch " + std::to_string(o.size) + " px, stride " + std::to_string(o.stride) +
                               " (network input); drop of the softmax probability");
            });
  }
  return report;
}

GalleryReport render_detector_gallery(DetectionExplainer& det, const std::string& name, const Dataset& data,
                                      const std::vector<int>& show, const std::vector<int>& pool, const fs::path& out,
                                      const GalleryOptions& opts) {
  GalleryReport report;
  const fs::path dir = out / name;
  fs::create_directories(dir);
  Recorder rec(report, dir, name);
  det.clear_selection();
  const std::vector<std::string> layers = det.layers();

  rec.run("filters", "filters", "First-layer filters of the " + name + " backbone",
          [&](const fs::path& d, const std::string& s) { save_filters(det, d, s); });
  std::vector<int> searched = pool;
  if (opts.top_patch_images > 0 && static_cast<int>(searched.size()) > opts.top_patch_images)
    searched.resize(static_cast<size_t>(opts.top_patch_images));
  rec.run("top_patches", "top_patches_" + layers.front(), "Patches that excite channels 0-7 of " + layers.front() + " most",
          [&](const fs::path& d, const std::string& s) {
            TopPatchesOptions o;
            o.layer = layers.front();
            o.max_patch = opts.top_patch_max;
            save_top_patches(top_patches(det, data, searched, o), data, d, s);
          });
  rec.run("tsne", "tsne", "t-SNE of RoIAlign features (" + layers.front() + ") of ground-truth boxes",
          [&](const fs::path& d, const std::string& s) {
            EmbeddingOptions o;
            o.layer = layers.front();
            o.max_per_class = opts.embedding_max_per_class;
            const Embeddings e = region_embeddings(det, data, pool, o);
            if (!enough_for_tsne(e)) return false;
            save_tsne(tsne(e.features, opts.tsne), e, d, s, "t-SNE of " + name + " region features (" + o.layer + ")");
            return true;
          });

  for (int idx : show) {
    const std::string img = data.images.at(static_cast<size_t>(idx)).name;
    det.clear_selection();
    const auto at = static_cast<size_t>(idx);
    const ModelInput in = make_input(data.load_image(at), det, data.images.at(at).name);
    rec.run("activations", img + "_activations", img + ": activations of " + layers.front(),
            [&](const fs::path& d, const std::string& s) {
              ActivationOptions o;
              o.layer = layers.front();
              save_activations(activations(det, in.tensor, o), det, in, d, s, opts.figure);
            });
    const std::vector<ExplainedDetection> dets = det.detections(in);
    if (dets.empty()) {
      std::cerr << "gallery: " << name << " finds nothing in " << img << "; no detection to explain\n";
      continue;
    }
    const ExplainedDetection& top = dets.front();
    det.select(top, in.tensor.size(2), in.tensor.size(3));
    const std::vector<Box> box{top.image_box};
    const std::string what = img + ": " + top.name;
    rec.run("grad_cam", img + "_grad_cam", what + ", Grad-CAM at its level", [&](const fs::path& d, const std::string& s) {
      save_heatmap(grad_cam(det, in.tensor, {}), det, in, d, s, opts.figure, box);
    });
    rec.run("saliency", img + "_saliency", what + ", vanilla gradient", [&](const fs::path& d, const std::string& s) {
      save_heatmap(saliency(det, in.tensor, {}), det, in, d, s, opts.figure, box);
    });
    rec.run("smoothgrad", img + "_smoothgrad", what + ", SmoothGrad", [&](const fs::path& d, const std::string& s) {
      SaliencyOptions o = opts.smoothgrad;
      o.seed = opts.seed;
      save_heatmap(saliency(det, in.tensor, o), det, in, d, s, opts.figure, box);
    });
    rec.run("occlusion", img + "_occlusion", what + ", occlusion", [&](const fs::path& d, const std::string& s) {
      OcclusionOptions o = opts.occlusion;
      o.stride = std::max(o.stride, o.size / 2);  // a detector pass costs ~10 classifier passes: coarser steps
      const OcclusionResult r = occlusion(det, in.tensor, in.meta.height, in.meta.width, o);
      save_heatmap(r.map, det, in, d, s, opts.figure, box,
                   "patch " + std::to_string(o.size) + " px, stride " + std::to_string(o.stride) +
                       " (network input); drop of this detection's score");
    });
    if (idx == show.front()) {
      rec.run("class_image", img + "_class_image", what + ", gradient ascent from the image",
              [&](const fs::path& d, const std::string& s) {
                ClassImageOptions o = opts.class_image;
                o.target = 0;
                o.seed = opts.seed;
                o.jitter = 0;  // the anchor is tied to a position: rolling the image would move the object off it
                save_class_images({class_image(det, in.tensor, o)}, {top.name}, det.transform(), d, s,
                                  "Gradient ascent on the detection's score, starting from the image");
              });
    }
    det.clear_selection();
  }
  return report;
}

GalleryReport render_detr_gallery(Detr& detr, ScoreModel& input_model, const std::vector<std::string>& class_names,
                                  const std::string& name, const Dataset& data, const std::vector<int>& show,
                                  const fs::path& out, const GalleryOptions& opts) {
  GalleryReport report;
  const fs::path dir = out / name;
  fs::create_directories(dir);
  for (int idx : show) {
    const std::string img = data.images.at(static_cast<size_t>(idx)).name;
    const auto at = static_cast<size_t>(idx);
    const ModelInput in = make_input(data.load_image(at), input_model, data.images.at(at).name);
    const auto t0 = std::chrono::steady_clock::now();
    const DetrAttention a = detr_attention(detr, in, opts.attention);
    save_detr_attention(a, in, class_names, dir, img + "_attention", opts.figure.colormap);
    report.seconds["attention"] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++report.runs["attention"];
    if (!a.objects.empty())
      report.pictures.emplace_back(name + "/" + img + "_attention_decoder.png",
                                   img + ": decoder attention of the " + std::to_string(a.objects.size()) +
                                       " best-scoring queries");
    if (!a.points.empty())
      report.pictures.emplace_back(name + "/" + img + "_attention_encoder.png",
                                   img + ": encoder self-attention at their centres");
  }
  return report;
}

void write_gallery_index(const fs::path& out, const std::vector<std::pair<std::string, GalleryReport>>& parts) {
  write_file_atomic(out / "index.md", [&](std::ostream& os) {
    os << "# detlab visualization gallery\n\n";
    for (const auto& [title, r] : parts) {
      os << "## " << title << "\n\n| method | runs | seconds (total) |\n|---|---|---|\n";
      for (const auto& [m, s] : r.seconds) os << "| " << m << " | " << r.runs.at(m) << " | " << s << " |\n";
      os << "\n";
      for (const auto& [file, caption] : r.pictures) os << "### " << caption << "\n\n![" << caption << "](" << file << ")\n\n";
    }
  });
}

}  // namespace detlab

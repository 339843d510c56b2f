// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: the time of every visualization method on one 640 x 480 image, and Grad-CAM's cost in forward passes.
//
// Usage: bench_viz [--reps 5] [--threads 2] [--classifier MODEL_DIR] [--image FILE]
//
// Networks: the BCCD crop classifier (experiments/bccd/classifier.yaml: small_resnet pooled at layer3, whole
// images at 224 x 168; trained weights from --classifier when given, random otherwise: timings do not depend on
// the weights), the same classifier on the image at full size (640 x 480), and the BCCD RetinaNet, SSD, YOLO,
// DETR and a `faster_rcnn` of the BCCD scale (random weights, score threshold 0 so that a detection exists to
// explain). The families without a network (HOG + SVM, R-CNN's SVMs, dlib's FHOG) need trained models: their
// commands are timed by tests/viz/every_family.py.
// Each method runs `reps` times after one warm-up; the table gives the fastest wall time (the machine is shared:
// the minimum is the least disturbed run) and the process CPU time of that run.
// Grad-CAM / forward: the fastest grad_cam() (one forward keeping the graph + one backward to the layer + the map)
// over the fastest plain forward of the same model on the same input (eval mode, no autograd). The bound
// is 3 (one forward, one backward).
#include <ATen/Parallel.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "config/config.h"
#include "detectors/crop_classifier.h"
#include "detectors/network_detector.h"
#include "pipeline/registries.h"
#include "viz/activations.h"
#include "viz/cam.h"
#include "viz/class_image.h"
#include "viz/classifier_model.h"
#include "viz/detection_target.h"
#include "viz/filters.h"
#include "viz/grad_cam.h"
#include "viz/occlusion.h"
#include "viz/saliency.h"
#include "viz/tsne.h"

using namespace detlab;

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  double wall_ms = 1e300, cpu_ms = 0;
};

/// reps == 0: one timed run, no warm-up (long methods).
Timing time_it(int reps, const std::function<void()>& f) {
  if (reps > 0) f();  // warm-up: allocator, OpenMP pool, geometry caches
  Timing best;
  for (int r = 0; r < std::max(1, reps); ++r) {
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (wall < best.wall_ms) best = {wall, 1e3 * (cpu_seconds() - c0)};
  }
  return best;
}

void row(const std::string& model, const std::string& method, const Timing& t, const std::string& note = "") {
  std::printf("| %-22s | %-34s | %10.1f | %10.1f | %s\n", model.c_str(), method.c_str(), t.wall_ms, t.cpu_ms,
              note.c_str());
}

void bench_scores(const std::string& name, ScoreModel& model, const ModelInput& in, int reps, bool all_methods) {
  std::printf("\n%s: network input %lld x %lld\n", name.c_str(), static_cast<long long>(in.tensor.size(3)),
              static_cast<long long>(in.tensor.size(2)));
  std::printf("| %-22s | %-34s | %10s | %10s |\n", "model", "method", "wall ms", "cpu ms");
  const Timing fwd = time_it(reps, [&] {
    torch::NoGradGuard g;
    model.module().eval();
    model.forward(in.tensor, nullptr);
  });
  row(name, "forward (no autograd)", fwd);
  const Timing gc = time_it(reps, [&] { grad_cam(model, in.tensor, {}); });
  char ratio[64];
  std::snprintf(ratio, sizeof(ratio), "Grad-CAM / forward = %.2f (bound 3)", gc.wall_ms / fwd.wall_ms);
  row(name, "grad_cam (" + model.default_layer() + ")", gc, ratio);
  if (model.gap_linear()) row(name, "cam", time_it(reps, [&] { cam(model, in.tensor, -1); }));
  row(name, "saliency (vanilla)", time_it(reps, [&] { saliency(model, in.tensor, {}); }));
  if (!all_methods) return;
  SaliencyOptions sg;
  sg.samples = 25;
  row(name, "smoothgrad (25 samples)", time_it(std::max(1, reps / 2), [&] { saliency(model, in.tensor, sg); }));
  OcclusionOptions oo;  // 32 px patch, stride 8: the CLI's defaults
  row(name, "occlusion (32 px, stride 8)",
      time_it(0, [&] { occlusion(model, in.tensor, in.meta.height, in.meta.width, oo); }));
  ActivationOptions ao;
  row(name, "activations", time_it(reps, [&] { activations(model, in.tensor, ao); }));
  row(name, "filters (grid)", time_it(reps, [&] { render_filters(first_layer_filters(model.module()), model.transform()); }));
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, threads = 2;
  std::string classifier_dir, image = std::string(DETLAB_REPO_ROOT) + "/datasets/bccd/JPEGImages/BloodImage_00007.jpg";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--classifier")) classifier_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--image")) image = argv[i + 1];
  }
  at::set_num_threads(threads);
  const cv::Mat bgr = cv::imread(image, cv::IMREAD_COLOR);
  if (bgr.empty()) {
    std::cerr << "bench_viz: cannot read " << image << "\n";
    return 2;
  }
  std::printf("bench_viz: %s (%d x %d), %d threads, best of %d runs; load average matters on a shared machine\n",
              image.c_str(), bgr.cols, bgr.rows, threads, reps);
  const std::vector<std::string> classes{"RBC", "WBC", "Platelets"};
  torch::manual_seed(0);

  const Config cls_root = Config::load(std::string(DETLAB_REPO_ROOT) + "/experiments/bccd/classifier.yaml");
  auto classifier = build_crop_classifier(cls_root.child("classifier"), classes);
  if (!classifier_dir.empty()) classifier->load(classifier_dir);
  {
    ClassifierScoreModel model(classifier->view());
    const ModelInput in = make_input(bgr, model);
    bench_scores("classifier 224x168", model, in, reps, true);
    ClassImageOptions co;  // 200 steps on a 96 px image: the gallery's setting
    const torch::Tensor start = noise_image(96, 96, 0.1, 1, torch::kCPU);
    row("classifier 224x168", "class image (200 steps, 96 px)", time_it(0, [&] { class_image(model, start, co); }));
    TransformOptions full = classifier->image_transform();
    full.min_size = 480;  // the image at its own size
    ClassifierScoreModel big(classifier->net(), full, classifier->options().class_names, torch::kCPU);
    const ModelInput in_full = make_input(bgr, big);
    bench_scores("classifier 640x480", big, in_full, reps, false);
  }

  // t-SNE on 1,000 points of 128 dimensions (the size of BCCD's test-split embeddings): exact and Barnes-Hut.
  {
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({1000, 128});
    TsneOptions to;
    to.progress = false;
    to.method = TsneOptions::Method::kExact;
    row("t-SNE 1000 x 128", "exact, 1000 iterations", time_it(0, [&] { tsne(x, to); }));
    to.method = TsneOptions::Method::kBarnesHut;
    row("t-SNE 1000 x 128", "Barnes-Hut (theta 0.5), 1000 iterations", time_it(0, [&] { tsne(x, to); }));
  }

  const std::vector<std::pair<std::string, std::string>> detectors = {
      {"experiments/bccd/retinanet.yaml", "postprocess.score_thresh=0.0"},
      {"experiments/bccd/ssd.yaml", ""},
      {"experiments/bccd/yolo.yaml", ""},
      {"experiments/bccd/detr.yaml", ""},
  };
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = classes;
  auto explain = [&](Config node, const std::string& name) {
    torch::manual_seed(2);
    auto det = builtin_registries().detectors.build(node, b);
    auto* net = dynamic_cast<NetworkDetector*>(det.get());
    auto ex = make_detection_explainer(net->model(), net->options().transform, classes, torch::kCPU);
    const ModelInput in = make_input(bgr, *ex);
    const std::vector<ExplainedDetection> dets = ex->detections(in);
    if (dets.empty()) {
      std::printf("%s: no detection to explain\n", name.c_str());
      return;
    }
    ex->select(dets.front(), in.tensor.size(2), in.tensor.size(3));
    bench_scores(name + " (1 detection)", *ex, in, reps, name == "retinanet");
  };
  for (const auto& [file, override_kv] : detectors) {
    Config root = Config::load(std::string(DETLAB_REPO_ROOT) + "/" + file);
    Config node = root.child("detector");
    if (!override_kv.empty()) node.set(override_kv);
    explain(node, node.get<std::string>("type"));
  }
  // Faster R-CNN at the BCCD Faster R-CNN config's scale (its `faster_rcnn` detector type; the staged composition
  // of experiments/bccd/faster_rcnn.yaml holds the same modules).
  explain(Config::parse("{type: faster_rcnn, input: {min_size: 320, max_size: 427}, representation_size: 256, "
                        "backbone: {type: small_resnet, norm: batch_norm, trainable_layers: -1, "
                        "fpn: {out_channels: 64}}, rpn: {post_nms_top_n: {train: 300, test: 300}}}",
                        "bench"),
          "faster_rcnn");
  return 0;
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: detlab's SSDlite320-MobileNetV3 and RetinaNet-R50-FPN against torchvision with the same weights.
//
// Usage: bench_dense_detectors [--threads 1,2] [--rounds 5] [--reps 2] [--retinanet-size 800] [--filter SUBSTRING]
//
// bench_dense_detectors starts bench_dense_detectors_peer.py (DETLAB_PYTHON) as a child process talking over
// pipes. The peer builds torchvision's models (tests/nn/tv_export_dense.py: random weights, calibrated BatchNorm),
// saves their weights, a 480 x 640 image and torchvision's detections; this side loads the weights by name
// (strict), checks its detections against torchvision's, then both time the same work with the same thread count,
// eval mode, no autograd (InferenceMode / torch.inference_mode()):
//   <model>_net   the network on the already transformed batch: backbone, head, anchors, post-processing
//   <model>_full  a whole image: our NetworkDetector::detect (uint8 BGR -> resize / normalize -> network ->
//                 boxes in original pixels) against torchvision's model([image]) (float RGB in [0, 1] ->
//                 GeneralizedRCNNTransform -> network -> transform.postprocess)
// Timing alternates: each round runs ours `reps` times, then asks the peer for `reps` runs, so background load
// hits both sides alike. The table reports medians, the ratio ours / torchvision (< 1: ours is faster) and the
// ratio of the fastest runs. RetinaNet runs at min_size 800 / max_size 1333 by default (torchvision's), a few
// seconds per image on a CPU; --retinanet-size 512 shrinks both sides alike.
// On a loaded machine run it as `OMP_WAIT_POLICY=passive bench_dense_detectors` (see bench/nn/bench_backbone.cpp).
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <sys/wait.h>
#include <torch/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "alternating.h"
#include "peer_process.h"
#include "config/config.h"
#include "detectors/retinanet.h"
#include "detectors/ssd.h"
#include "nn/weights/weight_file.h"

namespace fs = std::filesystem;
using namespace detlab;

namespace {

std::vector<std::string> class_names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("c" + std::to_string(i));
  return v;
}

/// One model: our detector (with its network), the fixture's image, torchvision's detections.
struct Model {
  std::unique_ptr<NetworkDetector> detector;
  int label_offset = 0;  // SSD: torchvision's column k is our class k - 1
  cv::Mat bgr;
  torch::Tensor images;
  ImageSize size{};
  std::map<std::string, torch::Tensor> reference;
};

Model load_model(const std::string& name, const fs::path& dir, int retinanet_size) {
  Model m;
  if (name.rfind("ssdlite", 0) == 0) {
    const Config c = Config::parse("type: ssd\nbackbone: {type: mobilenet_v3_large}\nmax_per_image: 300\n");
    m.detector = make_ssd(parse_ssd(c, class_names(90)));
    m.label_offset = 1;
  } else {
    const Config c = Config::parse("type: retinanet\nmax_per_image: 300\ninput: {min_size: " +
                                   std::to_string(retinanet_size) + ", max_size: " +
                                   std::to_string(retinanet_size * 1333 / 800) + "}\n");
    m.detector = make_retinanet(parse_retinanet(c, class_names(91)));
  }
  load_weights(m.detector->module(), (dir / "state_dict.pt").string());
  const auto in = read_pickled_state_dict((dir / "inputs.pt").string());
  const torch::Tensor bgr = in.at("raw_image").flip(2).contiguous();
  m.bgr = cv::Mat(static_cast<int>(bgr.size(0)), static_cast<int>(bgr.size(1)), CV_8UC3, bgr.data_ptr<uint8_t>())
              .clone();
  m.images = in.at("images");
  m.size = {in.at("image_size")[0].item<int64_t>(), in.at("image_size")[1].item<int64_t>()};
  m.reference = read_pickled_state_dict((dir / "outputs.pt").string());
  return m;
}

/// Our detections against torchvision's: count, and for each of theirs the nearest of ours (same label).
std::string compare(const Model& m, const Detections& d, bool* ok) {
  const auto tb = m.reference.at("boxes").to(torch::kDouble), ts = m.reference.at("scores").to(torch::kDouble);
  const auto tl = m.reference.at("labels");
  const int64_t n = ts.size(0);
  double box = 0, score = 0;
  int64_t unmatched = 0;
  double unmatched_box = 0;  // the largest distance of an unmatched one of theirs to the nearest of ours
  std::vector<bool> used(d.size(), false);
  for (int64_t j = 0; j < n; ++j) {
    double best = INFINITY;
    size_t best_i = d.size();
    for (size_t i = 0; i < d.size(); ++i) {
      if (used[i] || d[i].label != tl[j].item<int64_t>() - m.label_offset) continue;
      const double diff = std::max({std::abs(d[i].box.x1 - tb[j][0].item<double>()),
                                    std::abs(d[i].box.y1 - tb[j][1].item<double>()),
                                    std::abs(d[i].box.x2 - tb[j][2].item<double>()),
                                    std::abs(d[i].box.y2 - tb[j][3].item<double>())});
      if (diff < best && std::abs(d[i].score - ts[j].item<double>()) <= 1e-4) {
        best = diff;
        best_i = i;
      }
    }
    if (best_i == d.size() || best > 1e-3) {
      ++unmatched;
      // How far off: the nearest of ours with the same label, scores ignored.
      double nearest = INFINITY;
      for (size_t i = 0; i < d.size(); ++i)
        if (d[i].label == tl[j].item<int64_t>() - m.label_offset)
          nearest = std::min(nearest, std::max({std::abs(d[i].box.x1 - tb[j][0].item<double>()),
                                                std::abs(d[i].box.y1 - tb[j][1].item<double>()),
                                                std::abs(d[i].box.x2 - tb[j][2].item<double>()),
                                                std::abs(d[i].box.y2 - tb[j][3].item<double>())}));
      if (std::isfinite(nearest)) unmatched_box = std::max(unmatched_box, nearest);
      continue;
    }
    used[best_i] = true;
    box = std::max(box, best);
    score = std::max(score, std::abs(d[best_i].score - ts[j].item<double>()));
  }
  *ok = unmatched == 0 && static_cast<int64_t>(d.size()) == n;
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "%zu vs %lld detections, %lld unmatched (nearest box of ours within %.2g px), max box diff %.2g px, "
                "max score diff %.2g",
                d.size(), static_cast<long long>(n), static_cast<long long>(unmatched), unmatched_box, box, score);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args;
  args.extra["retinanet-size"] = 800;
  if (!args.parse(argc, argv, "bench_dense_detectors")) return 2;
  const int retinanet_size = args.extra.at("retinanet-size");

  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_dense_" + std::to_string(getpid()));
  fs::create_directories(dir);
  detlab::bench::PeerProcess peer("bench_dense_detectors");
  const std::string script = std::string(DETLAB_REPO_ROOT) + "/bench/bench_dense_detectors_peer.py";
  const auto cases = peer.start_and_ask(DETLAB_PYTHON, script, "make " + dir.string() + " " + std::to_string(retinanet_size));
  if (!cases) {
    fs::remove_all(dir);
    return 1;
  }

  std::map<std::string, Model> models;
  std::map<std::string, std::function<void()>> steps;
  bool all_ok = true;
  std::printf("detlab SSDlite320 / RetinaNet-R50-FPN vs torchvision 0.14 (Debian torch 1.13, CPU), same weights, "
              "a 480 x 640 image; RetinaNet at min_size %d\n\n", retinanet_size);
  for (const auto& c : *cases) {
    if (!args.selected(c)) continue;
    const std::string name = c.substr(0, c.rfind('_'));
    const bool full = c.substr(c.rfind('_') + 1) == "full";
    if (!models.count(name)) {
      models.emplace(name, load_model(name, dir / name, retinanet_size));
      Model& m = models.at(name);
      bool ok = false;
      const std::string report = compare(m, m.detector->detect(Image{"bench", m.bgr}), &ok);
      all_ok = all_ok && ok;
      std::printf("%-32s %s\n", name.c_str(), report.c_str());
    }
    Model* m = &models.at(name);
    if (full) {
      steps[c] = [m] {
        c10::InferenceMode guard;
        (void)m->detector->detect(Image{"bench", m->bgr});
      };
    } else {
      steps[c] = [m] {
        c10::InferenceMode guard;
        (void)m->detector->model()->detect(m->images, {m->size});
      };
    }
  }
  fs::remove_all(dir);

  std::printf("\n%s\n\n", bench::conditions(args.rounds, args.reps).c_str());
  std::printf("| %-36s | %7s | %10s | %16s | %9s | %9s |\n", "case", "threads", "ours (ms)", "torchvision (ms)",
              "ours / tv", "min / min");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(38, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(18, '-').c_str(), std::string(11, '-').c_str(),
              std::string(11, '-').c_str());
  for (int t : args.threads) {
    at::set_num_threads(t);
    if (!peer.ask("threads " + std::to_string(t))) return 1;
    for (auto& [name, step] : steps) {
      const auto timings = bench::time_alternating(peer, name, step, args.rounds, args.reps);
      if (!timings) return 1;
      std::printf("| %-36s | %7d | %10.1f | %16.1f | %9.3f | %9.3f |\n", name.c_str(), t, timings->ours_median(),
                  timings->theirs_median(), timings->median_ratio(), timings->min_ratio());
      std::fflush(stdout);
    }
  }
  std::printf("\ndetections %s torchvision's (boxes within 1e-3 px, scores within 1e-4)\n",
              all_ok ? "match" : "DO NOT match");
  return all_ok ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO evaluation speed: 5,000 synthetic images x 100 detections, 80 classes; pycocotools peer when importable.
//
// usage: bench_coco_eval [--images N] [--dets-per-image D] [--repeat R] [--no-peer]
// Prints evaluate (per-image matching) and accumulate times for 1 thread and for all cores, checks that both
// give bit-identical arrays, and runs bench_coco_eval_peer.py (pycocotools' COCOeval on the same files,
// timed in the same run) when `import pycocotools` works with DETLAB_PYTHON.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include <unistd.h>

#include "data/formats.h"
#include "eval/coco_eval.h"
#include "eval/detections.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

constexpr int kClasses = 80;            // COCO's category count
constexpr uint32_t kSeed = 20240601;    // fixed: every run scores the same synthetic set
constexpr double kCrowdFraction = 0.01; // about COCO's share of iscrowd annotations

// COCO-like synthetic set: ~7 objects per image (COCO val averages 7.3), sizes spread over the small /
// medium / large ranges, detections = jittered copies of the gt (mostly right class) plus clutter.
void make_set(int images, int dets_per_image, Dataset& gt, DetectionSet& dets) {
  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> label(0, kClasses - 1), nobj(1, 13);
  std::uniform_real_distribution<float> pos(0, 560), log_size(std::log(6.f), std::log(400.f)), jitter(-0.2f, 0.2f),
      unit(0, 1);
  gt.name = "bench";
  gt.format = "synthetic";
  for (int k = 0; k < kClasses; ++k) {
    gt.class_names.push_back("class" + std::to_string(k));
    gt.category_ids.push_back(k + 1);
  }
  for (int i = 0; i < images; ++i) {
    ImageRecord r;
    r.id = i + 1;
    r.name = "img" + std::to_string(r.id);
    r.file = r.name + ".jpg";
    r.width = 640, r.height = 640;
    const int n = nobj(rng);
    for (int j = 0; j < n; ++j) {
      Object o;
      const float x = pos(rng), y = pos(rng), w = std::exp(log_size(rng)), h = std::exp(log_size(rng));
      o.box = {x, y, x + w, y + h};
      o.label = label(rng);
      o.crowd = unit(rng) < kCrowdFraction;
      o.area = w * h;
      o.id = static_cast<int64_t>(i) * 100 + j + 1;
      r.objects.push_back(o);
    }
    ImageDetections d{r.id, {}};
    for (int j = 0; j < dets_per_image; ++j) {
      Detection det;
      if (j < 3 * n) {  // up to three hits per object
        const Object& o = r.objects[j % n];
        const float w = o.box.width(), h = o.box.height();
        det.box = {o.box.x1 + jitter(rng) * w, o.box.y1 + jitter(rng) * h, o.box.x2 + jitter(rng) * w,
                   o.box.y2 + jitter(rng) * h};
        if (det.box.x2 < det.box.x1) std::swap(det.box.x1, det.box.x2);
        if (det.box.y2 < det.box.y1) std::swap(det.box.y1, det.box.y2);
        det.label = unit(rng) < 0.8f ? o.label : label(rng);
      } else {
        const float x = pos(rng), y = pos(rng), w = std::exp(log_size(rng)), h = std::exp(log_size(rng));
        det.box = {x, y, x + w, y + h};
        det.label = label(rng);
      }
      det.score = std::round(unit(rng) * 1000.f) / 1000.f;  // 3 decimals, as COCO results files: ties occur
      d.dets.push_back(det);
    }
    gt.images.push_back(std::move(r));
    dets.push_back(std::move(d));
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Timing {
  double evaluate = 1e30, accumulate = 1e30;  // wall clock, best of the repeats
  double evaluate_cpu = 1e30, accumulate_cpu = 1e30;  // process CPU time of the same runs
  CocoEvalResult result;
};

Timing run(const Dataset& gt, const DetectionSet& dets, int threads, int repeat) {
  CocoEvalOptions o;
  o.threads = threads;
  Timing t;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    const CocoMatches m = coco_match(gt, dets, o);
    t.evaluate = std::min(t.evaluate, seconds_since(t0));
    t.evaluate_cpu = std::min(t.evaluate_cpu, cpu_seconds() - c0);
    t0 = std::chrono::steady_clock::now();
    c0 = cpu_seconds();
    t.result = coco_accumulate(m);
    t.accumulate = std::min(t.accumulate, seconds_since(t0));
    t.accumulate_cpu = std::min(t.accumulate_cpu, cpu_seconds() - c0);
  }
  return t;
}

bool same(const CocoEvalResult& a, const CocoEvalResult& b) {
  return a.precision == b.precision && a.recall == b.recall && a.scores == b.scores && a.stats == b.stats;
}

}  // namespace

int main(int argc, char** argv) {
  int images = 5000, per_image = 100, repeat = 3;
  bool peer = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--images" && i + 1 < argc) images = std::atoi(argv[++i]);
    else if (a == "--dets-per-image" && i + 1 < argc) per_image = std::atoi(argv[++i]);
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--no-peer") peer = false;
    else {
      std::cerr << "usage: bench_coco_eval [--images N] [--dets-per-image D] [--repeat R] [--no-peer]\n";
      return 2;
    }
  }
  Dataset gt;
  DetectionSet dets;
  make_set(images, per_image, gt, dets);
  std::printf("COCO bbox evaluation: %d images, %zu gt, %zu detections, %d classes (seed %u)\n", images,
              gt.num_objects(), num_detections(dets), kClasses, kSeed);

  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const Timing one = run(gt, dets, 1, repeat);
  const Timing all = run(gt, dets, cores, repeat);
  std::printf("%-28s %10s %12s %10s   %s\n", "detlab (best of repeats)", "evaluate", "accumulate", "total",
              "(CPU seconds: evaluate / accumulate)");
  auto row = [](const std::string& name, const Timing& t) {
    std::printf("%-28s %9.3fs %11.3fs %9.3fs   (%.3f / %.3f)\n", name.c_str(), t.evaluate, t.accumulate,
                t.evaluate + t.accumulate, t.evaluate_cpu, t.accumulate_cpu);
  };
  row("1 thread", one);
  row(std::to_string(cores) + " threads", all);
  const bool identical = same(one.result, all.result);
  std::printf("1 thread vs %d threads: %s\n", cores, identical ? "bit-identical" : "DIFFERENT");
  std::printf("AP %.6f  AP50 %.6f  AR100 %.6f\n", all.result.stats[0], all.result.stats[1], all.result.stats[8]);
  if (!identical) return 1;

  if (!peer) return 0;
  // Peer: pycocotools on the same set, written as COCO files (gt with exact float boxes, dets re-read
  // bit-identically by read_coco_results).
  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_coco_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_coco(gt, dir / "gt.json");
  write_coco_results(dir / "dets.json", gt, dets);
  const std::string cmd = std::string(DETLAB_PYTHON) + " " + DETLAB_REPO_ROOT + "/bench/bench_coco_eval_peer.py " +
                          (dir / "gt.json").string() + " " + (dir / "dets.json").string();
  double peer_eval = 0, peer_acc = 0;
  std::array<double, 12> peer_stats{};
  bool got = false;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[1024];
    while (std::fgets(line, sizeof line, p)) {
      double* s = peer_stats.data();
      got |= std::sscanf(line, "peer %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &peer_eval, &peer_acc,
                         s, s + 1, s + 2, s + 3, s + 4, s + 5, s + 6, s + 7, s + 8, s + 9, s + 10, s + 11) == 14;
    }
    ::pclose(p);
  }
  fs::remove_all(dir);
  if (!got) {
    std::printf("peer: pycocotools is not importable with %s: no peer ratio measured on this machine\n", DETLAB_PYTHON);
    return 0;
  }
  double max_diff = 0;
  for (size_t i = 0; i < 12; ++i) max_diff = std::max(max_diff, std::abs(peer_stats[i] - all.result.stats[i]));
  std::printf("%-28s %9.3fs %11.3fs %9.3fs\n", "pycocotools (same run)", peer_eval, peer_acc, peer_eval + peer_acc);
  std::printf("speed-up vs pycocotools: evaluate %.1fx, accumulate %.1fx, total %.1fx (%d threads); "
              "max |stats difference| %.2g\n",
              peer_eval / all.evaluate, peer_acc / all.accumulate,
              (peer_eval + peer_acc) / (all.evaluate + all.accumulate), cores, max_diff);
  return 0;
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Training throughput of the small from-scratch backbone on BCCD (640x480): images per second for the model
// step alone, for the whole engine (loader + step + bookkeeping), the loader alone, and a PyTorch peer.
//
// usage: bench_train_throughput [--iters N] [--warmup W] [--repeat R] [--threads "1 2"] [--batches "2 4"] [--no-peer]
// The model: small_resnet (nn/backbones, ~0.7 M parameters) + a dense stride-32 head (3x3 conv, 1x1 conv to
// background + 3 classes + 4 box offsets per cell) with a YOLO-v1-like loss; SGD with momentum. Rows:
//   model step  forward + backward + SGD on one fixed batch (no loader): the compute bound
//   engine      detlab::train() over datasets/bccd's train split: decode + augment + step + log
//   peer        the same network, loss and SGD in PyTorch (bench_train_throughput_peer.py), same run
// Each rate is the best of R interleaved repetitions (model, engine, peer, model, ...), so that load from other
// processes on a shared machine hits all three alike.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/conv.h>

#include "data/formats.h"
#include "nn/backbones/make_backbone.h"
#include "pipeline/runtime.h"
#include "train/engine.h"
#include "tensor/runtime.h"
#include "train/train_log.h"

using namespace detlab;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kStride = 32;  // small_resnet's layer4

/// small_resnet + dense head; losses as in the file comment.
class DenseModel : public Trainable {
 public:
  explicit DenseModel(int classes) : classes_(classes) {
    BackboneOptions bo;
    bo.out_features = {"layer4"};
    backbone_ = make_backbone("small_resnet", bo);
    const int64_t c = backbone_->output_shape().at("layer4").channels;
    root_.register_module("backbone", backbone_);
    head1_ = root_.register_module("head1", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, c, 3).padding(1)));
    head2_ = root_.register_module("head2", torch::nn::Conv2d(torch::nn::Conv2dOptions(c, classes + 1 + 4, 1)));
  }
  torch::nn::Module& module() override { return root_; }
  TransformOptions input_transform() const override {
    TransformOptions t;
    t.min_size = 0;  // BCCD's native 640 x 480 (divisible by 32)
    return t;
  }
  std::map<std::string, torch::Tensor> losses(const Batch& b) override {
    const torch::Tensor out = head2_(torch::relu(head1_(backbone_->forward(b.images).at("layer4"))));
    const int64_t n = out.size(0), h = out.size(2), w = out.size(3);
    torch::Tensor cls = torch::full({n, h, w}, int64_t{classes_}, torch::kLong);
    torch::Tensor reg = torch::zeros({n, 4, h, w}), pos = torch::zeros({n, 1, h, w});
    auto c = cls.accessor<int64_t, 3>();
    auto r = reg.accessor<float, 4>();
    auto p = pos.accessor<float, 4>();
    for (int64_t i = 0; i < n; ++i) {
      const auto boxes = b.targets[i].boxes.accessor<float, 2>();
      const auto labels = b.targets[i].labels.accessor<int64_t, 1>();
      for (int64_t k = 0; k < boxes.size(0); ++k) {
        const float cx = 0.5f * (boxes[k][0] + boxes[k][2]) / kStride, cy = 0.5f * (boxes[k][1] + boxes[k][3]) / kStride;
        const int64_t gx = std::min<int64_t>(w - 1, static_cast<int64_t>(cx)), gy = std::min<int64_t>(h - 1, static_cast<int64_t>(cy));
        c[i][gy][gx] = labels[k];
        r[i][0][gy][gx] = cx - gx;
        r[i][1][gy][gx] = cy - gy;
        r[i][2][gy][gx] = std::log((boxes[k][2] - boxes[k][0]) / kStride);
        r[i][3][gy][gx] = std::log((boxes[k][3] - boxes[k][1]) / kStride);
        p[i][0][gy][gx] = 1.f;
      }
    }
    const torch::Tensor dev_pos = pos.to(out.device());
    std::map<std::string, torch::Tensor> l;
    l["loss_cls"] = torch::nn::functional::cross_entropy(out.slice(1, 0, classes_ + 1), cls.to(out.device()));
    const torch::Tensor box = torch::nn::functional::smooth_l1_loss(
        out.slice(1, classes_ + 1), reg.to(out.device()),
        torch::nn::functional::SmoothL1LossFuncOptions().reduction(torch::kNone));
    l["loss_box"] = (box * dev_pos).sum() / dev_pos.sum().clamp_min(1);
    return l;
  }

 private:
  int classes_;
  torch::nn::Module root_;
  std::shared_ptr<Backbone> backbone_;
  torch::nn::Conv2d head1_{nullptr}, head2_{nullptr};
};

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::istringstream in(s);
  for (int x; in >> x;) v.push_back(x);
  return v;
}

/// Images per second of the loader alone, `batches` batches of 4 after 2 warm-up batches.
double loader_rate(const Dataset& ds, const TransformOptions& tf, int workers, int batches) {
  LoaderOptions o;
  o.transform = tf;
  o.batch_size = 4;
  o.workers = workers;
  const DataLoader loader(ds, o, 1);
  auto s = loader.stream(0);
  for (int i = 0; i < 2; ++i) s->next();
  const auto t0 = Clock::now();
  int64_t images = 0;
  for (int i = 0; i < batches; ++i) images += s->next().size();
  return images / seconds(t0);
}

/// Process CPU seconds (all threads): on a shared machine, images per CPU second move much less with other
/// processes' load than images per wall second.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Rate {
  double wall = 0, cpu = 0;  // images per wall second / per process CPU second
};

/// forward + backward + SGD on one fixed batch: images per second over `iters` steps after `warmup`.
Rate model_rate(const Dataset& ds, int batch, int warmup, int iters) {
  seed_everything(1);
  DenseModel m(ds.num_classes());
  m.module().train();
  OptimizerOptions oo;
  GroupedOptimizer opt(m.module(), oo);
  LoaderOptions lo;
  lo.transform = m.input_transform();
  lo.batch_size = batch;
  const Batch b = DataLoader(ds, lo, 1).batch(0, 0);
  Clock::time_point t0;
  double c0 = 0;
  for (int i = 0; i < warmup + iters; ++i) {
    if (i == warmup) {
      t0 = Clock::now();
      c0 = cpu_seconds();
    }
    auto losses = m.losses(b);
    torch::Tensor total = losses["loss_cls"] + losses["loss_box"];
    opt.zero_grad();
    total.backward();
    opt.step();
  }
  const double images = static_cast<double>(iters) * batch;
  return {images / seconds(t0), images / (cpu_seconds() - c0)};
}

/// The engine on the dataset: images per second between the log rows of iterations `warmup` and warmup + iters.
double engine_rate(const Dataset& ds, int batch, int threads, int warmup, int iters) {
  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_train_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  seed_everything(1);
  DenseModel m(ds.num_classes());
  TrainOptions o;
  o.iterations = warmup + iters;
  o.loader.batch_size = batch;
  o.loader.workers = 2;
  o.log_every = 1;
  o.checkpoint_every = 1 << 30;  // only the final checkpoint
  EngineContext ctx;
  ctx.out_dir = dir;
  ctx.threads = threads;
  ctx.seed = 1;
  ctx.quiet = true;
  train(m, ds, o, ctx);
  const auto rows = TrainLog::read(dir / "train_log.csv");
  fs::remove_all(dir);
  const double t_start = std::stod(rows.at(warmup).back()), t_end = std::stod(rows.at(warmup + iters).back());
  return static_cast<double>(iters) * batch / (t_end - t_start);
}

/// Runs the PyTorch peer; returns its rates and parameter count, or zeros when torch is not importable.
std::pair<Rate, int64_t> peer_rate(int batch, int threads, int warmup, int iters, int classes) {
  const std::string cmd = std::string(DETLAB_PYTHON) + " " + DETLAB_REPO_ROOT + "/bench/bench_train_throughput_peer.py " +
                          std::to_string(batch) + " " + std::to_string(threads) + " " + std::to_string(warmup) + " " +
                          std::to_string(iters) + " " + std::to_string(classes) + " 2>/dev/null";
  Rate rate;
  long long params = 0;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, p)) std::sscanf(line, "peer %lf %lld %lf", &rate.wall, &params, &rate.cpu);
    ::pclose(p);
  }
  return {rate, params};
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 10, warmup = 3, repeat = 3;
  std::vector<int> thread_counts{1, 2}, batches{2, 4};
  bool peer = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) warmup = std::atoi(argv[++i]);
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) thread_counts = parse_list(argv[++i]);
    else if (a == "--batches" && i + 1 < argc) batches = parse_list(argv[++i]);
    else if (a == "--no-peer") peer = false;
    else {
      std::cerr << "usage: bench_train_throughput [--iters N] [--warmup W] [--repeat R] [--threads \"1 2\"] [--batches \"2 4\"] [--no-peer]\n";
      return 2;
    }
  }
  ReadOptions ro;
  ro.split = "train";
  const Dataset ds = read_voc(fs::path(DETLAB_REPO_ROOT) / "datasets" / "bccd", ro);
  {
    DenseModel m(ds.num_classes());
    std::printf("BCCD train split: %zu images, %zu boxes; model small_resnet + dense head, %lld parameters\n",
                ds.images.size(), ds.num_objects(), static_cast<long long>(count_parameters(m.module())));
  }

  // Loader alone: JPEG decode + normalize (+ flip), batches of 4 at 640 x 480.
  set_library_threads(1);
  {
    double best = 0;
    for (int r = 0; r < repeat; ++r) {
      const auto t0 = Clock::now();
      const int n = 40;
      for (int i = 0; i < n; ++i) (void)cv::imread(ds.image_path(i).string(), cv::IMREAD_COLOR);
      best = std::max(best, n / seconds(t0));
    }
    std::printf("\nJPEG decode alone (cv::imread, 1 thread): %.1f images/s\n", best);
  }
  const TransformOptions tf = DenseModel(ds.num_classes()).input_transform();
  std::printf("loader alone (decode + normalize + flip + pad, batch 4):");
  for (int workers : {0, 1, 2}) {
    double best = 0;
    for (int r = 0; r < repeat; ++r) best = std::max(best, loader_rate(ds, tf, workers, 30));
    std::printf("  %d workers %.1f img/s", workers, best);
  }
  std::printf("\n\nimages per second (wall clock; per process CPU second in brackets), best of %d:\n", repeat);
  std::printf("%-8s %-6s %18s %14s %14s %18s %18s\n", "threads", "batch", "model step", "engine", "engine/model",
              "PyTorch peer", "model/peer");
  for (int threads : thread_counts) {
    for (int batch : batches) {
      set_library_threads(threads);
      Rate model, p;
      double engine = 0;
      for (int r = 0; r < repeat; ++r) {
        const Rate m = model_rate(ds, batch, warmup, iters);
        model = {std::max(model.wall, m.wall), std::max(model.cpu, m.cpu)};
        engine = std::max(engine, engine_rate(ds, batch, threads, warmup, iters));
        if (peer) {
          const Rate q = peer_rate(batch, threads, warmup, iters, ds.num_classes()).first;
          p = {std::max(p.wall, q.wall), std::max(p.cpu, q.cpu)};
        }
      }
      std::printf("%-8d %-6d %8.2f [%7.2f] %14.2f %14.2f", threads, batch, model.wall, model.cpu, engine,
                  engine / model.wall);
      if (p.wall > 0)
        std::printf(" %8.2f [%7.2f] %8.2f [%7.2f]\n", p.wall, p.cpu, model.wall / p.wall, model.cpu / p.cpu);
      else
        std::printf(" %18s %18s\n", "-", "-");
      std::fflush(stdout);
    }
  }
  if (peer) {
    DenseModel m(ds.num_classes());
    const auto p = peer_rate(2, 1, 0, 1, ds.num_classes());
    if (p.second == 0)
      std::printf("peer: torch is not importable with %s: no peer measured on this machine\n", DETLAB_PYTHON);
    else
      std::printf("peer parameter count %lld (C++ %lld)%s\n", static_cast<long long>(p.second),
                  static_cast<long long>(count_parameters(m.module())),
                  p.second == count_parameters(m.module()) ? ": same architecture" : ": MISMATCH");
  }
  return 0;
}

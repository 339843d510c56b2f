// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: inference and one training step of torchvision's three reference detectors as detlab builds them
// (SSDlite320-MobileNetV3-Large, RetinaNet-R50-FPN, Faster R-CNN-R50-FPN; random weights, 91 classes), at
// batch 1 and 8, on each device asked for; with CPU and CUDA both measured, the CUDA speed-up per case.
//
// Usage: bench_device_throughput [--devices cpu,cuda] [--batches 1,8] [--size 512] [--reps 3] [--threads 0]
//                                [--filter SUBSTRING] [--smoke]
//
// Every case builds its model on the device, runs one warm-up pass (cuDNN autotuning, allocator growth), then
// `reps` timed passes, each ended by a device synchronisation; the table gives the median ms per batch and
// images per second. "infer" is eval mode under InferenceMode: backbone, heads, anchors, box decoding and NMS
// (DetectionModel::detect). "train" is train mode: losses (matching and sampling included), backward, and an
// SGD step with momentum. The images are random, normalised, size x size (SSDlite at its own 320 x 320), with
// 3 to 6 random boxes each. It links detlab_nn alone, so it builds with DETLAB_NN_ONLY against any LibTorch
// (a CUDA one for the GPU numbers: bench/gpu_check.sh). --smoke: SSDlite, batch 2, one rep (a check
// that the binary runs). Asking for cuda where CUDA is unavailable is an error (exit 2), never a skipped case.
// SSDlite's training step starts at batch 2 (its 1 x 1 BatchNorm maps; "–" at batch 1).
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/make_backbone.h"
#include "nn/backbones/resnet.h"
#include "nn/backbones/ssd_mobilenet.h"
#include "nn/detection/faster_rcnn.h"
#include "nn/detection/retinanet.h"
#include "nn/detection/ssd.h"

using namespace detlab;

namespace {

struct Args {
  std::vector<std::string> devices{"cpu"};
  std::vector<int64_t> batches{1, 8};
  int64_t size = 512;
  int reps = 3;
  int threads = 0;
  std::string filter;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

struct ModelCase {
  std::string name;
  int64_t fixed_size;  // > 0: the model's own input size (SSDlite320)
  /// Smallest batch that trains: SSDlite's extra blocks end in 1 x 1 maps whose BatchNorm needs two values per
  /// channel in training mode (as in torchvision, which never trains it at batch 1).
  int64_t min_train_batch;
  std::function<std::shared_ptr<DetectionModel>()> make;
};

std::vector<ModelCase> model_cases() {
  constexpr int64_t kClasses = 91;  // torchvision's COCO heads
  return {
      {"ssdlite320_mobilenet_v3_large", 320, 2,
       [] {
         return std::make_shared<Ssd>(std::make_shared<SsdLiteMobileNet>(ssdlite320_mobilenet_v3_large_extractor_options()),
                                      ssdlite320_options(kClasses));
       }},
      {"retinanet_resnet50_fpn", 0, 1,
       [] {
         ResNetOptions r = resnet_options(50);
         r.num_classes = 0;
         r.norm.kind = NormKind::kFrozenBatchNorm;
         r.trainable_layers = 3;
         r.out_features = {"layer2", "layer3", "layer4"};
         FpnOptions f;
         f.extra = FpnOptions::Extra::kP6P7;
         RetinaNetOptions o;
         o.num_classes = kClasses;
         return std::make_shared<RetinaNet>(std::make_shared<BackboneWithFpn>(std::make_shared<ResNet>(r), f), o);
       }},
      {"fasterrcnn_resnet50_fpn", 0, 1,
       [] {
         BackboneOptions b;
         b.norm = NormKind::kFrozenBatchNorm;
         b.trainable_layers = 3;
         b.fpn = FpnOptions{};
         return std::make_shared<FasterRCNN>(make_backbone("resnet50", b), fasterrcnn_resnet50_fpn_options(kClasses));
       }},
  };
}

/// A batch of random normalised images with 3 to 6 random boxes each (labels 0..num_classes-1).
struct Batch {
  torch::Tensor images;
  std::vector<ImageSize> sizes;
  std::vector<NetTarget> targets;
};

Batch make_batch(int64_t n, int64_t size, int64_t num_classes, const torch::Device& device) {
  torch::manual_seed(0);
  Batch b;
  b.images = torch::randn({n, 3, size, size}).to(device);
  for (int64_t i = 0; i < n; ++i) {
    b.sizes.push_back({size, size});
    const int64_t k = 3 + i % 4;
    torch::Tensor xy = torch::rand({k, 2}) * (size * 0.6);
    torch::Tensor wh = torch::rand({k, 2}) * (size * 0.3) + size * 0.05;
    NetTarget t;
    t.boxes = torch::cat({xy, xy + wh}, 1).clamp_max(static_cast<double>(size)).to(device);
    t.labels = torch::randint(0, num_classes, {k}, torch::kLong).to(device);
    b.targets.push_back(t);
  }
  return b;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}

/// Median wall time in ms of `reps` calls after one warm-up call.
double median_ms(int reps, const torch::Device& device, const std::function<void()>& work) {
  work();
  synchronize(device);
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Result {
  double infer_ms = 0, train_ms = 0;  // train_ms < 0: not measured (batch below min_train_batch)
};

Result run_case(const ModelCase& c, int64_t batch, int64_t size, const torch::Device& device, int reps) {
  const int64_t side = c.fixed_size > 0 ? c.fixed_size : size;
  std::shared_ptr<DetectionModel> model = c.make();
  model->to(device);
  const Batch b = make_batch(batch, side, model->num_classes(), device);
  Result r;
  model->eval();
  r.infer_ms = median_ms(reps, device, [&] {
    c10::InferenceMode guard;
    (void)model->detect(b.images, b.sizes);
  });
  r.train_ms = -1;
  if (batch < c.min_train_batch) return r;
  model->train();
  std::vector<torch::Tensor> params;
  for (const torch::Tensor& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(1e-4).momentum(0.9));
  r.train_ms = median_ms(reps, device, [&] {
    sgd.zero_grad();
    torch::Tensor total = torch::zeros({}, b.images.options());
    for (const auto& [name, loss] : model->losses(b.images, b.sizes, b.targets)) total = total + loss;
    total.backward();
    sgd.step();
  });
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "bench_device_throughput: " << k << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (k == "--devices") a.devices = split(value());
      else if (k == "--batches") {
        a.batches.clear();
        for (const std::string& s : split(value())) a.batches.push_back(std::stoll(s));
      } else if (k == "--size") a.size = std::stoll(value());
      else if (k == "--reps") a.reps = std::stoi(value());
      else if (k == "--threads") a.threads = std::stoi(value());
      else if (k == "--filter") a.filter = value();
      else if (k == "--smoke") smoke = true;
      else {
        std::cerr << "bench_device_throughput: unknown option " << k << " (see the usage in the source header)\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "bench_device_throughput: " << k << ": expected a number\n";
      return 2;
    }
  }
  if (smoke) a.batches = {2}, a.size = 128, a.reps = 1, a.filter = a.filter.empty() ? "ssdlite" : a.filter;
  if (a.size < 64 || a.reps < 1 || a.batches.empty()) {
    std::cerr << "bench_device_throughput: --size must be >= 64, --reps >= 1, --batches non-empty\n";
    return 2;
  }
  std::vector<torch::Device> devices;
  for (const std::string& d : a.devices) {
    try {
      devices.emplace_back(d);
    } catch (const c10::Error&) {
      std::cerr << "bench_device_throughput: --devices: '" << d << "' is not a device (cpu, cuda, cuda:N)\n";
      return 2;
    }
    if (devices.back().is_cuda() && !torch::cuda::is_available()) {
      std::cerr << "bench_device_throughput: --devices asks for " << d
                << " but this LibTorch sees no CUDA device (torch::cuda::is_available() is false)\n";
      return 2;
    }
  }
  if (a.threads > 0) at::set_num_threads(a.threads);
  std::printf("# bench_device_throughput: size %lld (SSDlite 320), reps %d, CPU threads %d, CUDA devices %d\n",
              static_cast<long long>(a.size), a.reps, at::get_num_threads(),
              static_cast<int>(torch::cuda::device_count()));
  std::printf("| model | batch | device | infer ms | infer img/s | train step ms | train img/s |\n");
  std::printf("|---|---:|---|---:|---:|---:|---:|\n");
  std::map<std::string, Result> cpu;  // model/batch -> the CPU result, for the speed-up lines
  std::vector<std::string> speedups;
  for (const ModelCase& c : model_cases()) {
    if (!a.filter.empty() && c.name.find(a.filter) == std::string::npos) continue;
    for (int64_t batch : a.batches) {
      for (const torch::Device& device : devices) {
        Result r;
        try {
          r = run_case(c, batch, a.size, device, a.reps);
        } catch (const c10::Error& e) {
          std::fprintf(stderr, "bench_device_throughput: %s batch %lld on %s: %s\n", c.name.c_str(),
                       static_cast<long long>(batch), device.str().c_str(), e.what_without_backtrace());
          return 1;
        }
        char train[64] = "– | –";
        if (r.train_ms > 0) std::snprintf(train, sizeof train, "%.1f | %.1f", r.train_ms, 1000.0 * batch / r.train_ms);
        std::printf("| %s | %lld | %s | %.1f | %.1f | %s |\n", c.name.c_str(), static_cast<long long>(batch),
                    device.str().c_str(), r.infer_ms, 1000.0 * batch / r.infer_ms, train);
        std::fflush(stdout);
        const std::string key = c.name + " batch " + std::to_string(batch);
        if (device.is_cpu()) cpu[key] = r;
        else if (cpu.count(key))
          speedups.push_back(key + " on " + device.str() + ": inference " +
                             std::to_string(cpu[key].infer_ms / r.infer_ms).substr(0, 5) + "x" +
                             (r.train_ms > 0 ? ", training step " +
                                                   std::to_string(cpu[key].train_ms / r.train_ms).substr(0, 5) + "x"
                                             : std::string()) +
                             " the CPU's speed");
      }
    }
  }
  for (const std::string& s : speedups) std::printf("%s\n", s.c_str());
  return 0;
}

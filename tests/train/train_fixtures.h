// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test fixtures for train/: a seeded in-memory box dataset and a tiny trainable conv net.
#pragma once

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>

#include <unistd.h>

#include <opencv2/imgproc.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "data/dataset.h"
#include "train/trainable.h"

namespace detlab::test {

/// n images of w x h (sizes vary by up to 25 % when vary_size): a filled rectangle of class (i % classes) on
/// a noisy background, plus a second object on every third image. Deterministic for a seed.
inline Dataset box_dataset(int n, int w, int h, uint32_t seed = 7, int classes = 2, bool vary_size = false) {
  Dataset ds;
  ds.name = "boxes";
  ds.format = "synthetic";
  for (int c = 0; c < classes; ++c) {
    ds.class_names.push_back("c" + std::to_string(c));
    ds.category_ids.push_back(c + 1);
  }
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int iw = vary_size ? w + static_cast<int>(rng() % (w / 4 + 1)) : w;
    const int ih = vary_size ? h + static_cast<int>(rng() % (h / 4 + 1)) : h;
    cv::Mat img(ih, iw, CV_8UC3);
    cv::RNG noise(rng());  // a local generator: cv::randu would draw from OpenCV's global one
    noise.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(60 + static_cast<int>(rng() % 40)));
    ImageRecord r;
    r.id = 100 + i;
    r.name = "img" + std::to_string(i);
    r.file = r.name + ".png";
    r.width = iw;
    r.height = ih;
    const int objects = i % 3 == 0 ? 2 : 1;
    for (int k = 0; k < objects; ++k) {
      const int bw = iw / 4 + static_cast<int>(rng() % (iw / 3)), bh = ih / 4 + static_cast<int>(rng() % (ih / 3));
      const int x = static_cast<int>(rng() % (iw - bw)), y = static_cast<int>(rng() % (ih - bh));
      const int label = (i + k) % classes;
      cv::rectangle(img, cv::Rect(x, y, bw, bh), label == 0 ? cv::Scalar(40, 200, 240) : cv::Scalar(230, 60, 90),
                    cv::FILLED);
      Object o;
      o.box = Box{static_cast<float>(x), static_cast<float>(y), static_cast<float>(x + bw), static_cast<float>(y + bh)};
      o.label = label;
      r.objects.push_back(o);
    }
    ds.memory_images[r.name] = img;
    ds.images.push_back(r);
  }
  return ds;
}

/// conv-bn-relu x2, global average pool, dropout, linear -> (4 box coords of the first object, normalized by
/// the image size, and its class). Has buffers (batch-norm statistics) and uses the random generator (dropout)
/// so that checkpoints must restore both.
struct TinyNetImpl : torch::nn::Module {
  explicit TinyNetImpl(int classes)
      : conv1(torch::nn::Conv2dOptions(3, 8, 3).stride(2).padding(1)),
        bn1(8),
        conv2(torch::nn::Conv2dOptions(8, 16, 3).stride(2).padding(1)),
        bn2(16),
        drop(0.2),
        head(16, 4 + classes) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("bn2", bn2);
    register_module("drop", drop);
    register_module("head", head);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = torch::relu(bn2(conv2(y)));
    return head(drop(y.mean({2, 3})));
  }
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Dropout drop;
  torch::nn::Linear head;
};
TORCH_MODULE(TinyNet);

/// Trainable over TinyNet. fail_at > 0: losses() of that 1-based call returns NaN (nan_loss) or throws
/// (simulating a kill), counting calls from construction.
class TinyTrainable : public Trainable {
 public:
  explicit TinyTrainable(int classes = 2) : net_(classes), classes_(classes) {}
  torch::nn::Module& module() override { return *net_; }
  TransformOptions input_transform() const override { return transform; }
  std::map<std::string, torch::Tensor> losses(const Batch& b) override {
    ++calls;
    if (kill_at > 0 && calls == kill_at) throw std::runtime_error("simulated kill");
    const torch::Tensor out = net_->forward(b.images);
    std::vector<torch::Tensor> boxes;
    std::vector<int64_t> labels;
    for (size_t i = 0; i < b.targets.size(); ++i) {
      const float w = static_cast<float>(b.meta[i].width), h = static_cast<float>(b.meta[i].height);
      boxes.push_back(b.targets[i].boxes[0] / torch::tensor({w, h, w, h}).to(b.images.device()));
      labels.push_back(b.targets[i].labels[0].item<int64_t>());
    }
    std::map<std::string, torch::Tensor> l;
    l["loss_box"] = torch::nn::functional::smooth_l1_loss(out.slice(1, 0, 4), torch::stack(boxes));
    l["loss_cls"] = torch::nn::functional::cross_entropy(out.slice(1, 4), torch::tensor(labels).to(b.images.device()));
    if (nan_at > 0 && calls == nan_at) l["loss_box"] = l["loss_box"] * std::nan("");
    return l;
  }
  TinyNet& net() { return net_; }

  TransformOptions transform = [] {
    TransformOptions t;
    t.min_size = 40;
    t.max_size = 64;
    t.size_divisibility = 8;
    return t;
  }();
  int calls = 0;
  int kill_at = 0;
  int nan_at = 0;

 private:
  TinyNet net_;
  int classes_;
};

/// A fresh empty folder under the system temp dir (removed first if it exists).
inline std::filesystem::path temp_dir(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / ("detlab_test_train_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

/// Bitwise equality of every parameter and buffer of two modules of the same architecture.
inline bool same_state(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  const auto ba = a.named_buffers(), bb = b.named_buffers();
  if (pa.size() != pb.size() || ba.size() != bb.size()) return false;
  for (const auto& kv : pa)
    if (!torch::equal(kv.value(), pb[kv.key()])) return false;
  for (const auto& kv : ba)
    if (!torch::equal(kv.value(), bb[kv.key()])) return false;
  return true;
}

}  // namespace detlab::test

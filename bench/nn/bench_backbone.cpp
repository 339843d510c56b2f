// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: detlab's backbones (forward, and one training step) against torchvision with the same weights.
//
// Usage: bench_backbone [--threads 1,2] [--rounds 5] [--reps 3] [--filter SUBSTRING]
//
// bench_backbone starts bench_backbone_peer.py (DETLAB_PYTHON) as a child process talking over pipes. The peer
// builds each torchvision model (tests/nn/tv_export.py's definitions), saves its weights, input and output; this
// side loads the weights into the detlab model by name (strict), checks the output, then both time the same
// forward with the same thread count (at::set_num_threads / torch.set_num_threads), eval mode, no autograd
// (InferenceMode here, torch.inference_mode() there). Timing alternates: each round runs ours `reps` times,
// then asks the peer for `reps` runs, so background load hits both sides alike. The table reports medians over
// all runs and the ratio ours / torchvision (< 1: ours is faster), and the ratio of the fastest runs (the cost
// with the least interference when other processes share the cores).
//
// On a loaded machine run it as `OMP_WAIT_POLICY=passive bench_backbone`: with OpenMP's default spinning, a
// 2-thread forward whose second thread is descheduled waits at every barrier, and times swing by 10x or more on
// either side. The variable reaches both sides (the peer inherits the environment); the header prints it and
// the load average.
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <sys/wait.h>
#include <torch/nn/functional/loss.h>
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

#include "alternating.h"
#include "peer_process.h"
#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/make_backbone.h"
#include "nn/backbones/mobilenet_v3.h"
#include "nn/backbones/resnet.h"
#include "nn/weights/weight_file.h"

namespace fs = std::filesystem;
using namespace detlab;

namespace {

double rel_diff(const torch::Tensor& ours, const torch::Tensor& ref) {
  if (ours.sizes() != ref.sizes()) return INFINITY;
  const double scale = std::max(1.0, ref.abs().max().item<double>());
  return (ours.to(torch::kDouble) - ref.to(torch::kDouble)).abs().max().item<double>() / scale;
}

/// Our side of a case: the model, a step to time, and its largest difference from torchvision's outputs.
struct Case {
  std::shared_ptr<Backbone> model;
  std::function<std::map<std::string, torch::Tensor>()> step;
  int64_t parameters = 0;
};

std::shared_ptr<Backbone> build(const std::string& name) {
  if (name == "resnet50") return std::make_shared<ResNet>(resnet_options(50));
  if (name == "mobilenet_v3_large") return std::make_shared<MobileNetV3>(MobileNetV3Options{});
  if (name == "small_resnet" || name == "small_resnet_train") {
    auto o = small_resnet_options();
    o.num_classes = 10;  // tv_export.py's twin has a 10-class head
    return std::make_shared<ResNet>(o);
  }
  if (name == "resnet50_fpn") {  // fasterrcnn_resnet50_fpn's backbone (FrozenBatchNorm2d body)
    auto o = resnet_options(50);
    o.num_classes = 0;
    o.norm.kind = NormKind::kFrozenBatchNorm;
    o.trainable_layers = 3;
    return std::make_shared<BackboneWithFpn>(std::make_shared<ResNet>(o), FpnOptions{});
  }
  throw std::runtime_error("bench_backbone: unknown case " + name);
}

Case make_case(const std::string& name, const fs::path& dir) {
  Case c;
  c.model = build(name);
  load_weights(*c.model, (dir / "state_dict.pt").string());
  c.parameters = count_parameters(*c.model);
  const auto inputs = read_pickled_state_dict((dir / "inputs.pt").string());
  const torch::Tensor x = inputs.at("images"), labels = inputs.at("labels");
  auto model = c.model;
  if (name == "small_resnet_train") {
    model->train();
    c.step = [model, x, labels] {
      model->zero_grad(/*set_to_none=*/true);
      auto loss = torch::nn::functional::cross_entropy(model->logits(x), labels);
      loss.backward();
      return std::map<std::string, torch::Tensor>{
          {"loss", loss.detach()}, {"conv1_grad", model->named_parameters().find("conv1.weight")->grad()}};
    };
  } else if (model->num_classes() > 0) {
    model->eval();
    c.step = [model, x] {
      c10::InferenceMode guard;
      return std::map<std::string, torch::Tensor>{{"logits", model->logits(x)}};
    };
  } else {
    model->eval();
    c.step = [model, x] {
      c10::InferenceMode guard;
      return model->forward(x);
    };
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args;
  args.reps = 3;
  if (!args.parse(argc, argv, "bench_backbone")) return 2;

  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_backbone_" + std::to_string(getpid()));
  fs::create_directories(dir);
  detlab::bench::PeerProcess peer("bench_backbone");
  const std::string script = std::string(DETLAB_REPO_ROOT) + "/bench/nn/bench_backbone_peer.py";
  const auto names = peer.start_and_ask(DETLAB_PYTHON, script, "make " + dir.string());
  if (!names) {
    fs::remove_all(dir);
    return 1;
  }

  // Check every case against torchvision's output first (the first run from the saved state).
  std::map<std::string, Case> cases;
  bool all_ok = true;
  std::printf("detlab backbones vs torchvision 0.14 (Debian torch 1.13, CPU), same weights and inputs\n\n");
  std::printf("| %-20s | %11s | %15s |\n", "case", "parameters", "max rel. diff");
  std::printf("|%s|%s|%s|\n", std::string(22, '-').c_str(), std::string(13, '-').c_str(), std::string(17, '-').c_str());
  for (const auto& n : *names) {
    if (!args.selected(n)) continue;
    Case c = make_case(n, dir / n);
    const auto ref = read_pickled_state_dict((dir / n / "outputs.pt").string());
    const auto out = c.step();
    double diff = 0;
    for (const auto& kv : ref) {
      if (kv.first == "seed") continue;
      diff = std::max(diff, out.count(kv.first) ? rel_diff(out.at(kv.first), kv.second) : INFINITY);
    }
    // The parity tests' tolerances: 1e-4 (tests/nn/tv_fixture.h), 2e-4 for the 50-layer FPN, whose float32
    // outputs are themselves that far from float64 (tests/nn/test_backbone_fpn.cpp).
    all_ok = all_ok && diff <= (n == "resnet50_fpn" ? 2e-4 : 1e-4);
    std::printf("| %-20s | %11lld | %15.2g |\n", n.c_str(), static_cast<long long>(c.parameters), diff);
    cases.emplace(n, std::move(c));
  }
  fs::remove_all(dir);

  std::printf("\n%s\n\n", bench::conditions(args.rounds, args.reps).c_str());
  std::printf("| %-20s | %7s | %10s | %16s | %9s | %13s |\n", "case", "threads", "ours (ms)", "torchvision (ms)",
              "ours / tv", "min / min");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(22, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(18, '-').c_str(), std::string(11, '-').c_str(),
              std::string(15, '-').c_str());
  for (int t : args.threads) {
    at::set_num_threads(t);
    if (!peer.ask("threads " + std::to_string(t))) return 1;
    for (auto& [name, c] : cases) {
      const auto timings = bench::time_alternating(peer, name, [&c = c] { (void)c.step(); }, args.rounds, args.reps);
      if (!timings) return 1;
      std::printf("| %-20s | %7d | %10.1f | %16.1f | %9.3f | %13.3f |\n", name.c_str(), t, timings->ours_median(),
                  timings->theirs_median(), timings->median_ratio(), timings->min_ratio());
      std::fflush(stdout);
    }
  }
  std::printf("\noutputs %s torchvision's (max |diff| <= 1e-4 x max(1, max |torchvision|), 2e-4 for resnet50_fpn)\n",
              all_ok ? "match" : "DO NOT match");
  return all_ok ? 0 : 1;
}

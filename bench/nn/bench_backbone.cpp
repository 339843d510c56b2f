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

#include "peer_process.h"
#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/make_backbone.h"
#include "nn/backbones/mobilenet_v3.h"
#include "nn/backbones/resnet.h"
#include "nn/weights/weight_file.h"

namespace fs = std::filesystem;
using namespace detlab;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

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

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) v.push_back(std::stoi(item));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  int rounds = 5, reps = 3;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--threads") threads = parse_ints(next());
    else if (a == "--rounds") rounds = std::stoi(next());
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--filter") filter = next();
    else {
      std::cerr << "usage: bench_backbone [--threads 1,2] [--rounds 5] [--reps 3] [--filter SUBSTRING]\n";
      return 2;
    }
  }

  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_backbone_" + std::to_string(getpid()));
  fs::create_directories(dir);
  detlab::bench::PeerProcess peer("bench_backbone");
  const std::string script = std::string(DETLAB_REPO_ROOT) + "/bench/nn/bench_backbone_peer.py";
  std::optional<std::vector<std::string>> names;
  if (peer.start(DETLAB_PYTHON, script)) names = peer.ask("make " + dir.string());
  if (!names) {
    std::cerr << "bench_backbone: the torchvision peer (" << DETLAB_PYTHON << " " << script
              << ") did not start; it makes the weights and inputs, so there is nothing to compare\n";
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
    if (!filter.empty() && n.find(filter) == std::string::npos) continue;
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

  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  std::string load = "?";
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) load = std::string(buf).substr(0, std::string(buf).find(' '));
    std::fclose(f);
  }
  std::printf("\nmedians of %d rounds x %d runs, alternating ours / torchvision; OMP_WAIT_POLICY=%s, load average "
              "%s on %d cores\n\n", rounds, reps, wait_policy ? wait_policy : "(unset)", load.c_str(),
              static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  std::printf("| %-20s | %7s | %10s | %16s | %9s | %13s |\n", "case", "threads", "ours (ms)", "torchvision (ms)",
              "ours / tv", "min / min");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(22, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(18, '-').c_str(), std::string(11, '-').c_str(),
              std::string(15, '-').c_str());
  for (int t : threads) {
    at::set_num_threads(t);
    if (!peer.ask("threads " + std::to_string(t))) return 1;
    for (auto& [name, c] : cases) {
      c.step();  // warm-up (the peer warms up in each "time" command)
      std::vector<double> ours, theirs;
      for (int r = 0; r < rounds; ++r) {
        for (int k = 0; k < reps; ++k) {
          const auto t0 = std::chrono::steady_clock::now();
          const auto out = c.step();
          ours.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        const auto reply = peer.ask("time " + name + " " + std::to_string(reps));
        if (!reply) return 1;
        for (const auto& w : *reply) theirs.push_back(std::stod(w));
      }
      const double mo = median(ours), mt = median(theirs);
      const double lo = *std::min_element(ours.begin(), ours.end());
      const double lt = *std::min_element(theirs.begin(), theirs.end());
      std::printf("| %-20s | %7d | %10.1f | %16.1f | %9.3f | %13.3f |\n", name.c_str(), t, mo, mt, mo / mt, lo / lt);
      std::fflush(stdout);
    }
  }
  std::printf("\noutputs %s torchvision's (max |diff| <= 1e-4 x max(1, max |torchvision|), 2e-4 for resnet50_fpn)\n",
              all_ok ? "match" : "DO NOT match");
  return all_ok ? 0 : 1;
}

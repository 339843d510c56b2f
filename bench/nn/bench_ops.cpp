// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: detlab's CPU ops (roi_align, roi_pool, nms, batched_nms, box_iou) against torchvision.ops.
//
// Usage: bench_ops [--threads 1,2] [--rounds 7] [--reps 3] [--filter SUBSTRING] [--no-peer]
//
// bench_ops starts bench_ops_peer.py (DETLAB_PYTHON) as a child process talking over pipes. The peer makes the
// inputs (seeded) and torchvision's result for every case; both sides then run the same inputs with the same
// thread count (at::set_num_threads / torch.set_num_threads). Timing alternates: each round runs our op `reps`
// times, then asks the peer for `reps` runs, so background load hits both sides alike. The table reports medians
// over all runs, the ratio ours / torchvision (< 1: ours is faster) and the largest difference of the results.
#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/types.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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
#include "nn/ops/box_iou.h"
#include "nn/ops/nms.h"
#include "nn/ops/roi_align.h"
#include "nn/ops/roi_pool.h"

using namespace detlab;

namespace fs = std::filesystem;

namespace {

c10::impl::GenericDict load_dict(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::jit::pickle_load(bytes).toGenericDict();
}

at::Tensor get(const c10::impl::GenericDict& d, const char* key) {
  return d.at(c10::IValue(std::string(key))).toTensor();
}

/// Our side of a case: the op to time and the difference of its result from torchvision's.
struct Case {
  std::function<at::Tensor()> run;
  std::function<double(const at::Tensor&)> diff;
};

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return INFINITY;
  if (a.numel() == 0) return 0.0;
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

Case make_case(const std::string& name, const c10::impl::GenericDict& d) {
  const at::Tensor expected = get(d, "result");
  auto close = [expected](const at::Tensor& r) { return max_abs_diff(r, expected); };
  auto same = [expected](const at::Tensor& r) { return r.equal(expected) ? 0.0 : INFINITY; };
  RoiAlignOptions ra;
  ra.spatial_scale = 1.0 / 16;  // stride-16 feature map
  ra.sampling_ratio = 2;
  ra.aligned = true;
  if (name == "roi_align") {
    const at::Tensor x = get(d, "input"), rois = get(d, "rois");
    return {[=] { return roi_align(x, rois, ra); }, close};
  }
  if (name == "roi_align_backward") {
    const at::Tensor x = get(d, "input").clone().requires_grad_(true), rois = get(d, "rois");
    const at::Tensor go = get(d, "grad_output");
    return {[=]() mutable {
              x.mutable_grad() = at::Tensor();
              roi_align(x, rois, ra).backward(go);
              return x.grad();
            },
            close};
  }
  if (name == "roi_pool") {
    RoiPoolOptions rp;
    rp.spatial_scale = 1.0 / 16;
    const at::Tensor x = get(d, "input"), rois = get(d, "rois");
    return {[=] { return roi_pool(x, rois, rp); }, close};
  }
  if (name.rfind("nms_", 0) == 0) {
    const at::Tensor b = get(d, "boxes"), s = get(d, "scores");
    return {[=] { return nms(b, s, 0.5); }, same};
  }
  if (name.rfind("batched_nms_", 0) == 0) {
    const at::Tensor b = get(d, "boxes"), s = get(d, "scores"), i = get(d, "idxs");
    // torchvision's per-category path (> 4000 coordinates) orders its result with an unstable sort, so kept boxes
    // with equal scores may come in either order; ours puts the lower index first. Compare in that canonical order.
    auto canonical = [s](const at::Tensor& keep) {
      const at::Tensor by_index = std::get<0>(keep.sort());
      return by_index.index_select(0, std::get<1>(s.index_select(0, by_index).sort(true, 0, true)));
    };
    return {[=] { return batched_nms(b, s, i, 0.5); },
            [=](const at::Tensor& r) { return canonical(r).equal(canonical(expected)) ? 0.0 : INFINITY; }};
  }
  if (name.rfind("box_iou_", 0) == 0) {
    const at::Tensor b1 = get(d, "boxes1"), b2 = get(d, "boxes2");
    return {[=] { return box_iou(b1, b2); }, close};
  }
  throw std::runtime_error("bench_ops: unknown case " + name);
}

}  // namespace

int main(int argc, char** argv) {
  detlab::bench::Args args;
  args.rounds = 7;
  args.reps = 3;
  if (!args.parse(argc, argv, "bench_ops")) return 2;

  const fs::path dir = fs::temp_directory_path() / ("detlab_bench_ops_" + std::to_string(getpid()));
  fs::create_directories(dir);
  detlab::bench::PeerProcess peer("bench_ops");
  const std::string script = std::string(DETLAB_REPO_ROOT) + "/bench/nn/bench_ops_peer.py";
  const auto names = peer.start_and_ask(DETLAB_PYTHON, script, "make " + dir.string());
  if (!names) {
    fs::remove_all(dir);
    return 1;
  }
  std::map<std::string, Case> cases;
  for (const auto& n : *names)
    if (args.selected(n))
      cases.emplace(n, make_case(n, load_dict(dir / (n + ".pt"))));

  std::printf("detlab ops vs torchvision 0.14 (Debian)\n%s\n\n", detlab::bench::conditions(args.rounds, args.reps).c_str());
  std::printf("| %-20s | %7s | %10s | %16s | %11s | %9s |\n", "case", "threads", "ours (ms)", "torchvision (ms)",
              "ours / tv", "max |diff|");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(22, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(18, '-').c_str(), std::string(13, '-').c_str(),
              std::string(11, '-').c_str());
  bool all_ok = true;
  for (int t : args.threads) {
    at::set_num_threads(t);
    if (!peer.ask("threads " + std::to_string(t))) return 1;
    for (auto& [name, c] : cases) {
      const double diff = c.diff(c.run());
      const auto timings =
          detlab::bench::time_alternating(peer, name, [&c = c] { (void)c.run(); }, args.rounds, args.reps);
      if (!timings) return 1;
      all_ok = all_ok && diff <= 1e-5;
      std::printf("| %-20s | %7d | %10.3f | %16.3f | %11.3f | %9.2g |\n", name.c_str(), t, timings->ours_median(),
                  timings->theirs_median(), timings->median_ratio(), diff);
      std::fflush(stdout);
    }
  }
  fs::remove_all(dir);
  std::printf(
      "\nresults %s torchvision's (max |diff| <= 1e-5; nms rows: identical indices, batched_nms up to the\n"
      "order of equal scores, which torchvision's unstable sort leaves open)\n",
      all_ok ? "match" : "DO NOT match");
  return all_ok ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Shared checks of the backbone parity tests: key sets against torchvision and outputs on the fixture's input.
#pragma once

#include <catch2/catch.hpp>
#include <torch/types.h>

#include <set>
#include <string>

#include "nn/backbones/backbone.h"
#include "nn/weights/state_dict.h"
#include "tv_fixture.h"

namespace detlab::test {

/// The module's parameter + buffer names and shapes equal the fixture's torchvision state_dict exactly.
inline void require_same_keys(const torch::nn::Module& model, const std::map<std::string, torch::Tensor>& tv) {
  const auto ours = module_state_dict(model);
  std::set<std::string> only_ours, only_tv;
  for (const auto& kv : ours) {
    if (!tv.count(kv.first)) only_ours.insert(kv.first);
  }
  for (const auto& kv : tv) {
    if (!ours.count(kv.first)) only_tv.insert(kv.first);
  }
  INFO("first key only in ours: " << (only_ours.empty() ? "-" : *only_ours.begin()));
  INFO("first key only in torchvision: " << (only_tv.empty() ? "-" : *only_tv.begin()));
  REQUIRE(only_ours.empty());
  REQUIRE(only_tv.empty());
  for (const auto& kv : ours) {
    INFO(kv.first);
    REQUIRE(kv.second.sizes() == tv.at(kv.first).sizes());
  }
}

/// Compares out[name] with the fixture's outputs[name] under parity_tolerance(expected, relative).
inline void require_parity(const std::string& name, const torch::Tensor& ours, const torch::Tensor& expected,
                           double relative = 1e-4) {
  INFO("output " << name << ": ours " << ours.sizes() << ", torchvision " << expected.sizes());
  REQUIRE(ours.sizes() == expected.sizes());
  const double diff = max_abs_diff(ours, expected);
  const double tol = parity_tolerance(expected, relative);
  INFO("max abs diff " << diff << " (tolerance " << tol << ", max |torchvision| "
                       << expected.abs().max().item<double>() << ")");
  CHECK(diff <= tol);
}

/// Loads the fixture's weights strictly, runs forward() (and logits() if the fixture has them) in eval mode
/// without gradients, and compares every output the fixture holds that the backbone produced.
/// Returns false when the test is skipped (DETLAB_SKIP_TV_PARITY=1; tv_fixture reports it).
inline bool check_backbone_parity(Backbone& model, const std::string& fixture, double relative = 1e-4) {
  const auto dir = tv_fixture(fixture);
  if (dir.empty()) return false;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  const auto state = load_tensors(dir / "state_dict.pt");
  require_same_keys(model, state);
  const auto report = load_state_dict(model, state);
  REQUIRE(report.ok());
  const auto inputs = load_tensors(dir / "inputs.pt");
  const auto expected = load_tensors(dir / "outputs.pt");
  model.eval();
  torch::NoGradGuard no_grad;
  const auto& images = inputs.at("images");
  const auto out = model.forward(images);
  int compared = 0;
  for (const auto& kv : out) {
    if (!expected.count(kv.first)) continue;
    require_parity(kv.first, kv.second, expected.at(kv.first), relative);
    ++compared;
  }
  if (expected.count("logits")) {
    require_parity("logits", model.logits(images), expected.at("logits"), relative);
    ++compared;
  }
  REQUIRE(compared == static_cast<int>(expected.size()));
  return true;
}

}  // namespace detlab::test

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// load_state_dict: strict errors listing missing / unexpected / mis-shaped keys, non-strict reports, renaming.
#include <catch2/catch.hpp>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "nn/backbones/norm.h"
#include "nn/weights/state_dict.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

// A two-layer module with a nested child, to have dotted names: conv.weight, conv.bias, head.fc.weight, ...
struct Tiny : torch::nn::Module {
  Tiny() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)));
    auto head = register_module("head", std::make_shared<torch::nn::Module>());
    fc = head->register_module("fc", torch::nn::Linear(4, 2));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear fc{nullptr};
};

StateDict filled(const Tiny& m, float value) {
  StateDict s;
  for (const auto& kv : module_state_dict(m)) s[kv.first] = torch::full(kv.second.sizes(), value);
  return s;
}

}  // namespace

TEST_CASE("module_state_dict lists parameters and buffers with dotted names", "[nn][weights]") {
  Tiny m;
  const auto s = module_state_dict(m);
  CHECK(s.size() == 4);
  CHECK(s.count("conv.weight"));
  CHECK(s.count("head.fc.bias"));
  FrozenBatchNorm2d frozen(5);
  const auto f = module_state_dict(*frozen);
  CHECK(f.size() == 4);  // weight, bias, running_mean, running_var: all buffers, no counter
  CHECK(frozen->parameters().empty());
}

TEST_CASE("load_state_dict copies every tensor by name", "[nn][weights]") {
  Tiny m;
  const auto report = load_state_dict(m, filled(m, 0.5f));
  CHECK(report.ok());
  CHECK(report.loaded.size() == 4);
  CHECK(m.fc->weight.eq(0.5f).all().item<bool>());
  CHECK(m.conv->bias.eq(0.5f).all().item<bool>());
  CHECK(m.conv->weight.requires_grad());  // loading does not change requires_grad
}

TEST_CASE("a mismatched state dict throws WeightLoadError listing every problem and changes nothing",
          "[nn][weights]") {
  Tiny m;
  load_state_dict(m, filled(m, 1.f));
  StateDict bad = filled(m, 2.f);
  bad.erase("head.fc.bias");                         // missing
  bad["head.fc.scale"] = torch::ones({2});           // unexpected
  bad["conv.weight"] = torch::ones({4, 3, 5, 5});    // mis-shaped
  try {
    load_state_dict(m, bad, {}, "weights/tiny.pt");
    FAIL("expected WeightLoadError");
  } catch (const WeightLoadError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("weights/tiny.pt: state dict does not match the model"));
    CHECK_THAT(what, Catch::Contains("missing 1 key(s): head.fc.bias"));
    CHECK_THAT(what, Catch::Contains("unexpected 1 key(s): head.fc.scale"));
    CHECK_THAT(what, Catch::Contains("mis-shaped 1 key(s): conv.weight (module [4, 3, 3, 3], file [4, 3, 5, 5])"));
    CHECK(e.report().missing == std::vector<std::string>{"head.fc.bias"});
    CHECK(e.report().unexpected == std::vector<std::string>{"head.fc.scale"});
    REQUIRE(e.report().mismatched.size() == 1);
    CHECK(e.report().mismatched[0].key == "conv.weight");
    CHECK(e.source() == "weights/tiny.pt");
  }
  // Nothing was loaded: the valid head.fc.weight in `bad` did not go in either.
  CHECK(m.fc->weight.eq(1.f).all().item<bool>());
  CHECK(m.conv->weight.eq(1.f).all().item<bool>());
}

TEST_CASE("non-strict loading loads what matches and returns the lists", "[nn][weights]") {
  Tiny m;
  load_state_dict(m, filled(m, 1.f));
  StateDict bad = filled(m, 3.f);
  bad.erase("head.fc.bias");
  bad["conv.weight"] = torch::ones({4, 3, 5, 5});
  LoadOptions opts;
  opts.strict = false;
  const auto report = load_state_dict(m, bad, opts);
  CHECK_FALSE(report.ok());
  CHECK(report.loaded == std::vector<std::string>{"conv.bias", "head.fc.weight"});
  CHECK(report.missing == std::vector<std::string>{"head.fc.bias"});
  CHECK(report.mismatched.size() == 1);
  CHECK(m.fc->weight.eq(3.f).all().item<bool>());
  CHECK(m.fc->bias.eq(1.f).all().item<bool>());     // missing: untouched
  CHECK(m.conv->weight.eq(1.f).all().item<bool>()); // mis-shaped: untouched
}

TEST_CASE("summary truncates long lists", "[nn][weights]") {
  LoadReport r;
  for (int i = 0; i < 12; ++i) r.missing.push_back("k" + std::to_string(i));
  CHECK(r.summary(3) == "missing 12 key(s): k0, k1, k2, ... (9 more)");
  CHECK(LoadReport{}.summary() == "ok: 0 key(s) loaded");
}

TEST_CASE("rename, drop_unrenamed and ignore map checkpoint keys onto module keys", "[nn][weights]") {
  Tiny m;
  StateDict detector;
  for (const auto& kv : filled(m, 4.f)) detector["model.backbone." + kv.first] = kv.second;
  detector["model.rpn.w"] = torch::ones({1});
  detector["optimizer_state"] = torch::ones({1});

  SECTION("strip a prefix and drop the rest") {
    LoadOptions opts;
    opts.rename = {{"model.backbone.", ""}};
    opts.drop_unrenamed = true;
    const auto r = load_state_dict(m, detector, opts);
    CHECK(r.ok());
    CHECK(r.ignored == std::vector<std::string>{"model.rpn.w", "optimizer_state"});
    CHECK(m.conv->weight.eq(4.f).all().item<bool>());
  }
  SECTION("without drop_unrenamed the other keys are unexpected") {
    LoadOptions opts;
    opts.rename = {{"model.backbone.", ""}};
    CHECK_THROWS_WITH(load_state_dict(m, detector, opts),
                      Catch::Contains("unexpected 2 key(s): model.rpn.w, optimizer_state"));
  }
  SECTION("first matching rule wins; ignore skips a module subtree on both sides") {
    LoadOptions opts;
    opts.rename = {{"model.backbone.head.", "skipped."}, {"model.backbone.", ""}};
    opts.drop_unrenamed = true;
    opts.ignore = {"skipped.", "head."};
    const auto r = load_state_dict(m, detector, opts);
    CHECK(r.ok());  // head.fc.* not reported missing
    CHECK(r.loaded == std::vector<std::string>{"conv.bias", "conv.weight"});
  }
  SECTION("two file keys onto one module key is an error") {
    LoadOptions opts;
    opts.rename = {{"model.backbone.", ""}, {"x.", ""}};
    opts.drop_unrenamed = true;
    StateDict twice = detector;
    twice["x.conv.bias"] = torch::ones({4});
    CHECK_THROWS_WITH(load_state_dict(m, twice, opts), Catch::Contains("both map to module key 'conv.bias'"));
  }
}

TEST_CASE("BatchNorm counters follow torchvision's FrozenBatchNorm2d and PyTorch's BatchNorm2d rules",
          "[nn][weights]") {
  torch::nn::BatchNorm2d bn(3);
  FrozenBatchNorm2d frozen(3);
  const StateDict with_counter = {{"weight", torch::full({3}, 2.f)},
                                  {"bias", torch::full({3}, 0.5f)},
                                  {"running_mean", torch::full({3}, 0.1f)},
                                  {"running_var", torch::full({3}, 4.f)},
                                  {"num_batches_tracked", torch::tensor(int64_t{7})}};
  // BatchNorm2d checkpoint -> FrozenBatchNorm2d: the counter is ignored, not unexpected.
  auto r = load_state_dict(*frozen, with_counter);
  CHECK(r.ok());
  CHECK(r.ignored == std::vector<std::string>{"num_batches_tracked"});
  CHECK(frozen->running_var.eq(4.f).all().item<bool>());
  // FrozenBatchNorm2d checkpoint -> BatchNorm2d: the counter is set to 0, not missing.
  load_state_dict(*bn, with_counter);
  CHECK(bn->num_batches_tracked.item<int64_t>() == 7);
  StateDict without = with_counter;
  without.erase("num_batches_tracked");
  r = load_state_dict(*bn, without);
  CHECK(r.ok());
  CHECK(bn->num_batches_tracked.item<int64_t>() == 0);
  // The two give the same eval output.
  bn->eval();
  const auto x = torch::randn({2, 3, 4, 4});
  CHECK(torch::allclose(bn->forward(x), frozen->forward(x), 1e-5, 1e-6));
}

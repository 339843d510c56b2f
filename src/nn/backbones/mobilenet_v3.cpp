// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MobileNetV3 (see mobilenet_v3.h): inverted residual blocks with squeeze-excitation, torchvision's tables.
#include "nn/backbones/mobilenet_v3.h"

#include <torch/nn/init.h>

#include <algorithm>

namespace detlab {
namespace {

// One row of torchvision's inverted_residual_setting (MobileNetV3 paper, Tables 1 and 2).
struct BlockConfig {
  int64_t in, kernel, expanded, out;
  bool use_se, use_hs;
  int64_t stride, dilation;
};

// torchvision.ops.SqueezeExcitation with MobileNetV3's Hardsigmoid gate (Hu et al. 2018): fc1, fc2 are 1x1 convs.
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeeze) {
    fc1 = register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeeze, 1)));
    fc2 = register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze, channels, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto s = torch::adaptive_avg_pool2d(x, {1, 1});
    s = fc2->forward(fc1->forward(s).relu_());
    return torch::hardsigmoid(s) * x;
  }
  torch::nn::Conv2d fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcitation);

// torchvision's InvertedResidual: [expand 1x1] -> depthwise kxk -> [SE] -> project 1x1 (linear), all under
// "block.j", with a residual connection when the shape is kept.
class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(const BlockConfig& c, const NormSpec& norm)
      : expands(c.expanded != c.in), use_res(c.stride == 1 && c.in == c.out) {
    TORCH_CHECK(c.stride == 1 || c.stride == 2, "MobileNetV3: illegal stride ", c.stride);
    const Activation act = c.use_hs ? Activation::kHardswish : Activation::kReLU;
    auto block = register_module("block", std::make_shared<torch::nn::Module>("block"));
    int j = 0;
    if (expands) {
      expand_ = block->register_module(std::to_string(j++), ConvNormAct(ConvNormActOptions{c.in, c.expanded, 1, 1, 1, 1,
                                                                                          norm, act}));
    }
    const int64_t stride = c.dilation > 1 ? 1 : c.stride;
    depthwise_ = block->register_module(
        std::to_string(j++),
        ConvNormAct(ConvNormActOptions{c.expanded, c.expanded, c.kernel, stride, c.expanded, c.dilation, norm, act}));
    if (c.use_se) {
      se_ = block->register_module(std::to_string(j++), SqueezeExcitation(c.expanded, make_divisible(c.expanded / 4)));
    }
    project_ = block->register_module(
        std::to_string(j++),
        ConvNormAct(ConvNormActOptions{c.expanded, c.out, 1, 1, 1, 1, norm, Activation::kNone}));
  }

  // expansion_out (optional) receives the output of block.0 when the block expands.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* expansion_out = nullptr) {
    torch::Tensor y = x;
    if (expands) {
      y = expand_->forward(x);
      if (expansion_out) *expansion_out = y;
    }
    y = depthwise_->forward(y);
    if (se_) y = se_->forward(y);
    y = project_->forward(y);
    if (use_res) y += x;
    return y;
  }

  const bool expands, use_res;

 private:
  ConvNormAct expand_{nullptr}, depthwise_{nullptr}, project_{nullptr};
  SqueezeExcitation se_{nullptr};
};
TORCH_MODULE(InvertedResidual);

std::vector<BlockConfig> block_table(const MobileNetV3Options& o, int64_t* last_channel) {
  const int64_t rd = o.reduced_tail ? 2 : 1;  // torchvision's reduce_divider
  const int64_t dil = o.dilated ? 2 : 1;
  auto adjust = [&](int64_t c) { return make_divisible(static_cast<double>(c) * o.width_mult); };
  std::vector<BlockConfig> t;
  auto add = [&](int64_t in, int64_t k, int64_t exp, int64_t out, bool se, bool hs, int64_t s, int64_t d) {
    t.push_back(BlockConfig{adjust(in), k, adjust(exp), adjust(out), se, hs, s, d});
  };
  if (o.arch == MobileNetV3Options::Arch::kLarge) {
    add(16, 3, 16, 16, false, false, 1, 1);
    add(16, 3, 64, 24, false, false, 2, 1);  // C1
    add(24, 3, 72, 24, false, false, 1, 1);
    add(24, 5, 72, 40, true, false, 2, 1);  // C2
    add(40, 5, 120, 40, true, false, 1, 1);
    add(40, 5, 120, 40, true, false, 1, 1);
    add(40, 3, 240, 80, false, true, 2, 1);  // C3
    add(80, 3, 200, 80, false, true, 1, 1);
    add(80, 3, 184, 80, false, true, 1, 1);
    add(80, 3, 184, 80, false, true, 1, 1);
    add(80, 3, 480, 112, true, true, 1, 1);
    add(112, 3, 672, 112, true, true, 1, 1);
    add(112, 5, 672, 160 / rd, true, true, 2, dil);  // C4
    add(160 / rd, 5, 960 / rd, 160 / rd, true, true, 1, dil);
    add(160 / rd, 5, 960 / rd, 160 / rd, true, true, 1, dil);
    *last_channel = adjust(1280 / rd);  // C5
  } else {
    add(16, 3, 16, 16, true, false, 2, 1);  // C1
    add(16, 3, 72, 24, false, false, 2, 1);  // C2
    add(24, 3, 88, 24, false, false, 1, 1);
    add(24, 5, 96, 40, true, true, 2, 1);  // C3
    add(40, 5, 240, 40, true, true, 1, 1);
    add(40, 5, 240, 40, true, true, 1, 1);
    add(40, 5, 120, 48, true, true, 1, 1);
    add(48, 5, 144, 48, true, true, 1, 1);
    add(48, 5, 288, 96 / rd, true, true, 2, dil);  // C4
    add(96 / rd, 5, 576 / rd, 96 / rd, true, true, 1, dil);
    add(96 / rd, 5, 576 / rd, 96 / rd, true, true, 1, dil);
    *last_channel = adjust(1024 / rd);  // C5
  }
  return t;
}

}  // namespace

int64_t make_divisible(double v, int64_t divisor) {
  int64_t new_v = std::max(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;  // never round down by more than 10%
  return new_v;
}

MobileNetV3::MobileNetV3(const MobileNetV3Options& o) : options_(o) {
  TORCH_CHECK(o.width_mult > 0, "MobileNetV3: width_mult must be positive, got ", o.width_mult);
  TORCH_CHECK(o.num_classes >= 0, "MobileNetV3: num_classes must be >= 0, got ", o.num_classes);
  int64_t last_channel = 0;
  const auto table = block_table(o, &last_channel);

  auto features = register_module("features", std::make_shared<torch::nn::Module>("features"));
  int64_t stride = 2;
  const int64_t first = table.front().in;
  features_.push_back(features->register_module(
      "0", ConvNormAct(ConvNormActOptions{3, first, 3, 2, 1, 1, o.norm, Activation::kHardswish})));
  taps_["features.0"] = ShapeSpec{first, stride};
  stage_indices_.push_back(0);
  for (size_t b = 0; b < table.size(); ++b) {
    const auto& c = table[b];
    const int i = static_cast<int>(b) + 1;
    const std::string name = "features." + std::to_string(i);
    if (c.expanded != c.in) taps_[name + ".block.0"] = ShapeSpec{c.expanded, stride};  // before the stride
    if (c.dilation == 1) stride *= c.stride;
    if (c.stride > 1) stage_indices_.push_back(i);  // torchvision's _is_cn
    features_.push_back(features->register_module(std::to_string(i), InvertedResidual(c, o.norm)));
    taps_[name] = ShapeSpec{c.out, stride};
  }
  const int last = static_cast<int>(table.size()) + 1;
  const int64_t lastconv = 6 * table.back().out;  // torchvision: 6x the last block's channels
  features_.push_back(features->register_module(
      std::to_string(last),
      ConvNormAct(ConvNormActOptions{table.back().out, lastconv, 1, 1, 1, 1, o.norm, Activation::kHardswish})));
  taps_["features." + std::to_string(last)] = ShapeSpec{lastconv, stride};
  stage_indices_.push_back(last);

  std::vector<std::string> wanted = o.out_features;
  if (wanted.empty()) {
    const size_t n = stage_indices_.size();
    wanted = {"features." + std::to_string(stage_indices_[n - 2]), "features." + std::to_string(stage_indices_[n - 1])};
  }
  options_.out_features = wanted;
  for (const auto& f : wanted) {
    TORCH_CHECK(taps_.count(f), "MobileNetV3: unknown out_feature '", f, "' (features.i or features.i.block.0)");
    const bool expansion = f.size() > 8 && f.compare(f.size() - 8, 8, ".block.0") == 0;
    const int index = std::stoi(f.substr(9));  // after "features."
    wanted_.push_back(Tap{index, expansion, f});
    last_needed_ = std::max(last_needed_, index);
  }

  if (o.num_classes > 0) {
    auto classifier = register_module("classifier", std::make_shared<torch::nn::Module>("classifier"));
    fc0_ = classifier->register_module("0", torch::nn::Linear(lastconv, last_channel));
    fc3_ = classifier->register_module("3", torch::nn::Linear(last_channel, o.num_classes));  // 1, 2: hardswish, dropout
  }

  // torchvision's initialisation.
  init_conv_kaiming_fan_out(*this);
  {
    torch::NoGradGuard no_grad;
    for (auto* fc : {fc0_.is_empty() ? nullptr : fc0_.get(), fc3_.is_empty() ? nullptr : fc3_.get()}) {
      if (!fc) continue;
      torch::nn::init::normal_(fc->weight, 0, 0.01);
      fc->bias.zero_();
    }
  }

  const int num_stages = static_cast<int>(stage_indices_.size());
  TORCH_CHECK(o.trainable_layers >= -1 && o.trainable_layers <= num_stages,
              "MobileNetV3: trainable_layers must be -1 or in [0, ", num_stages, "], got ", o.trainable_layers);
  if (o.trainable_layers >= 0) {
    const int freeze_before = o.trainable_layers == 0 ? static_cast<int>(features_.size())
                                                       : stage_indices_[num_stages - o.trainable_layers];
    for (int i = 0; i < freeze_before; ++i) {
      for (auto& p : features_[i]->parameters()) p.requires_grad_(false);
    }
  }
}

torch::Tensor MobileNetV3::run_features(torch::Tensor x, int last, const std::vector<Tap>& taps,
                                        std::map<std::string, torch::Tensor>* out) {
  for (int i = 0; i <= last; ++i) {
    auto& m = features_[i];
    if (auto* cna = m->as<ConvNormActImpl>()) {
      x = cna->forward(x);
    } else {
      torch::Tensor expansion;
      const bool want_expansion = out && std::any_of(taps.begin(), taps.end(), [&](const Tap& t) {
                                    return t.index == i && t.expansion;
                                  });
      x = m->as<InvertedResidualImpl>()->forward(x, want_expansion ? &expansion : nullptr);
      if (want_expansion) (*out)["features." + std::to_string(i) + ".block.0"] = expansion;
    }
    if (out) {
      for (const auto& t : taps) {
        // A later block's residual add is in place on its own output, never on x: keeping x is safe.
        if (t.index == i && !t.expansion) (*out)[t.name] = x;
      }
    }
  }
  return x;
}

std::map<std::string, torch::Tensor> MobileNetV3::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "MobileNetV3: expected N x 3 x H x W images, got ",
              images.sizes());
  std::map<std::string, torch::Tensor> out;
  run_features(images, last_needed_, wanted_, &out);
  return out;
}

torch::Tensor MobileNetV3::logits(const torch::Tensor& images) {
  TORCH_CHECK(fc0_, "MobileNetV3: built without a classification head (num_classes = 0)");
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "MobileNetV3: expected N x 3 x H x W images, got ",
              images.sizes());
  auto x = run_features(images, static_cast<int>(features_.size()) - 1, {}, nullptr);
  x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  x = fc0_->forward(x);
  torch::hardswish_(x);
  x = torch::dropout(x, options_.dropout, is_training());
  return fc3_->forward(x);
}

std::map<std::string, ShapeSpec> MobileNetV3::output_shape() const {
  std::map<std::string, ShapeSpec> shapes;
  for (const auto& t : wanted_) shapes[t.name] = taps_.at(t.name);
  return shapes;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/losses: smooth L1 (both forms), cross entropy, sigmoid focal loss and GIoU loss; stated values,
// torchvision / torch.nn.functional parity including gradients.

#include <algorithm>
#include <cmath>

#include "nn/losses/cross_entropy.h"
#include "nn/losses/focal_loss.h"
#include "nn/losses/giou_loss.h"
#include "nn/losses/smooth_l1.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::Reduction;
using detlab::test::max_abs_diff;

TEST_CASE("losses on stated values", "[nn][losses]") {
  const at::Tensor x = at::tensor({0.05f, 0.5f, -2.f}), t = at::zeros({3});
  // beta = 1/9: 0.05 is inside the quadratic zone (0.5 x^2 / beta), the others are linear (|x| - beta / 2).
  const at::Tensor sl1 = detlab::smooth_l1_loss(x, t, 1.0 / 9, Reduction::kNone);
  CHECK(sl1[0].item<float>() == Approx(0.5 * 0.05 * 0.05 * 9));
  CHECK(sl1[1].item<float>() == Approx(0.5 - 0.5 / 9));
  CHECK(detlab::smooth_l1_loss(x, t, 0.0, Reduction::kSum).item<float>() == Approx(2.55));  // beta 0: L1
  CHECK(det_smooth_l1_loss(x, t, 1.0 / 9, false).item<float>() == Approx(sl1.sum().item<float>()));
  CHECK(parse_reduction("sum") == Reduction::kSum);
  CHECK_THROWS_AS(parse_reduction("avg"), c10::Error);

  // Cross entropy of uniform logits is log(C).
  CHECK(detlab::cross_entropy_loss(at::zeros({4, 5}), at::tensor({0, 1, 2, 3}, at::kLong)).item<float>() ==
        Approx(std::log(5.0)));

  // Focal loss with gamma = 0 and no alpha is the binary cross entropy.
  FocalLossOptions fo;
  fo.alpha = -1;
  fo.gamma = 0;
  const at::Tensor logit = at::tensor({0.f}), one = at::tensor({1.f});
  CHECK(sigmoid_focal_loss(logit, one, fo).item<float>() == Approx(std::log(2.0)));
  fo = FocalLossOptions{};  // alpha 0.25, gamma 2: 0.25 * (1 - 0.5)^2 * log 2
  CHECK(sigmoid_focal_loss(logit, one, fo).item<float>() == Approx(0.25 * 0.25 * std::log(2.0)));

  // gamma < 1: torchvision's pow(1 - p_t, gamma) has an infinite derivative where p_t saturates to 1 (NaN
  // gradients for confident anchors); the log-space factor must stay finite and equal the double-precision value.
  {
    FocalLossOptions half;
    half.alpha = 0.5;
    half.gamma = 0.5;
    const at::Tensor z = at::tensor({40.f, -40.f, 3.f, -2.f, 0.25f}).requires_grad_(true);
    const at::Tensor t = at::tensor({1.f, 0.f, 1.f, 0.f, 0.5f});
    const at::Tensor loss = sigmoid_focal_loss(z, t, half);
    loss.sum().backward();
    CHECK(at::isfinite(z.grad()).all().item<bool>());
    for (int i = 0; i < 5; ++i) {
      const double zi = z[i].item<double>(), ti = t[i].item<double>();
      const double ce = std::max(zi, 0.0) - zi * ti + std::log1p(std::exp(-std::abs(zi)));  // stable BCE
      const double one_minus_p_t = ti / (1 + std::exp(zi)) + (1 - ti) / (1 + std::exp(-zi));
      const double expected = (0.5 * ti + 0.5 * (1 - ti)) * ce * std::pow(one_minus_p_t, 0.5);
      INFO("logit " << zi << " target " << ti);
      CHECK(loss[i].item<double>() == Approx(expected).margin(1e-7));
    }
  }

  // GIoU loss: identical boxes 0; disjoint unit boxes 1 apart: 1 - (0 - (3 - 2) / 3).
  const at::Tensor a = at::tensor({0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 1.f}).view({2, 4});
  const at::Tensor b = at::tensor({0.f, 0.f, 1.f, 1.f, 2.f, 0.f, 3.f, 1.f}).view({2, 4});
  const at::Tensor giou = generalized_box_iou_loss(a, b);
  CHECK(giou[0].item<float>() == Approx(0.0).margin(1e-6));
  CHECK(giou[1].item<float>() == Approx(1.0 + 1.0 / 3));
  CHECK(generalized_box_iou_loss(at::zeros({0, 4}), at::zeros({0, 4}), Reduction::kMean).item<float>() == 0.f);
}

TEST_CASE("losses match torch.nn.functional and torchvision, gradients included", "[nn][losses][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("losses");
  if (!fx) return;
  const Reduction reductions[] = {Reduction::kNone, Reduction::kMean, Reduction::kSum};
  const char* names[] = {"none", "mean", "sum"};

  for (int i = 0; i < 3; ++i) {
    const std::string k = "smooth_l1." + std::to_string(i) + ".";
    const double beta = fx->real(k + "beta");
    for (int r = 0; r < 3; ++r) {
      const at::Tensor x = fx->tensor("smooth_l1.input").clone().requires_grad_(true);
      const at::Tensor loss = detlab::smooth_l1_loss(x, fx->tensor("smooth_l1.target"), beta, reductions[r]);
      INFO("smooth_l1 beta " << beta << " " << names[r]);
      CHECK(max_abs_diff(loss, fx->tensor(k + names[r])) <= 1e-6);
      if (reductions[r] == Reduction::kSum) {
        loss.backward();
        CHECK(max_abs_diff(x.grad(), fx->tensor(k + "grad")) <= 1e-6);
      }
    }
  }
  const at::Tensor sx = fx->tensor("smooth_l1.input"), st = fx->tensor("smooth_l1.target");
  CHECK(max_abs_diff(det_smooth_l1_loss(sx, st), fx->tensor("det_smooth_l1.mean")) <= 1e-6);
  CHECK(max_abs_diff(det_smooth_l1_loss(sx, st, kRcnnSmoothL1Beta, false), fx->tensor("det_smooth_l1.sum")) <=
        1e-5);

  const at::Tensor logits = fx->tensor("ce.logits"), target = fx->tensor("ce.target"), weight = fx->tensor("ce.weight");
  CrossEntropyOptions ce;
  CHECK(max_abs_diff(detlab::cross_entropy_loss(logits, target.clamp_min(0), ce), fx->tensor("ce.plain")) <= 1e-6);
  ce.weight = weight;
  CHECK(max_abs_diff(detlab::cross_entropy_loss(logits, target, ce), fx->tensor("ce.weighted")) <= 1e-6);
  ce.label_smoothing = 0.1;
  CHECK(max_abs_diff(detlab::cross_entropy_loss(logits, target, ce), fx->tensor("ce.smooth")) <= 1e-6);
  CrossEntropyOptions ce_sum;
  ce_sum.reduction = Reduction::kSum;
  CHECK(max_abs_diff(detlab::cross_entropy_loss(logits, target, ce_sum), fx->tensor("ce.ignore_sum")) <= 1e-5);
  CrossEntropyOptions ce_none;
  ce_none.reduction = Reduction::kNone;
  ce_none.ignore_index = 2;
  CHECK(max_abs_diff(detlab::cross_entropy_loss(logits, target.clamp_min(0), ce_none), fx->tensor("ce.none")) <= 1e-6);

  for (int i = 0; i < 4; ++i) {
    const std::string k = "focal." + std::to_string(i) + ".";
    FocalLossOptions fo;
    fo.alpha = fx->real(k + "alpha");
    fo.gamma = fx->real(k + "gamma");
    for (int r = 0; r < 3; ++r) {
      fo.reduction = reductions[r];
      const at::Tensor x = fx->tensor("focal.logits").clone().requires_grad_(true);
      const at::Tensor loss = sigmoid_focal_loss(x, fx->tensor("focal.targets"), fo);
      INFO("focal alpha " << fo.alpha << " gamma " << fo.gamma << " " << names[r]);
      CHECK(max_abs_diff(loss, fx->tensor(k + names[r])) <= 1e-6);
      if (reductions[r] == Reduction::kSum) {
        loss.backward();
        CHECK(max_abs_diff(x.grad(), fx->tensor(k + "grad")) <= 1e-6);
      }
    }
  }

  for (int r = 0; r < 3; ++r) {
    const at::Tensor b1 = fx->tensor("giou.boxes1").clone().requires_grad_(true);
    const at::Tensor loss = generalized_box_iou_loss(b1, fx->tensor("giou.boxes2"), reductions[r]);
    INFO("giou " << names[r]);
    CHECK(max_abs_diff(loss, fx->tensor(std::string("giou.") + names[r])) <= 1e-6);
    if (reductions[r] == Reduction::kSum) {
      loss.backward();
      CHECK(max_abs_diff(b1.grad(), fx->tensor("giou.grad")) <= 1e-6);
    }
  }
  CHECK(max_abs_diff(generalized_box_iou_loss(at::zeros({0, 4}), at::zeros({0, 4}), Reduction::kMean),
                     fx->tensor("giou.empty_mean")) == 0.0);
}

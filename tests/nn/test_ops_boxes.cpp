// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/ops/boxes: area, clipping, small-box removal and format conversion; stated values and torchvision.

#include "nn/ops/boxes.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::test::max_abs_diff;

TEST_CASE("box utilities on stated boxes", "[nn][boxes]") {
  const at::Tensor b = at::tensor({-5.f, 2.f, 20.f, 8.f, 1.f, 1.f, 2.f, 30.f}).view({2, 4});
  CHECK(box_area(b).equal(at::tensor({150.f, 29.f})));
  CHECK(clip_boxes_to_image(b, 10, 15).equal(at::tensor({0.f, 2.f, 15.f, 8.f, 1.f, 1.f, 2.f, 10.f}).view({2, 4})));
  CHECK(remove_small_boxes(b, 2.0).equal(at::tensor({0}, at::kLong)));  // box 1 is 1 px wide
  CHECK(remove_small_boxes(b, 1.0).equal(at::tensor({0, 1}, at::kLong)));
  const at::Tensor cxcywh = box_convert(b, "xyxy", "cxcywh");
  CHECK(cxcywh[0].equal(at::tensor({7.5f, 5.f, 25.f, 6.f})));
  CHECK(box_convert(cxcywh, "cxcywh", "xyxy").equal(b));
  CHECK(box_convert(b, "xyxy", "xywh")[1].equal(at::tensor({1.f, 1.f, 1.f, 29.f})));
  CHECK_THROWS_AS(box_convert(b, "xyxy", "yxyx"), c10::Error);
  CHECK_THROWS_AS(box_area(at::zeros({3, 3})), c10::Error);
}

TEST_CASE("box utilities match torchvision", "[nn][boxes][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("boxes");
  if (!fx) return;
  const at::Tensor b = fx->tensor("boxes");
  CHECK(box_area(b).equal(fx->tensor("area")));
  CHECK(clip_boxes_to_image(b, 50, 60).equal(fx->tensor("clipped")));
  CHECK(clip_boxes_to_image(b.view({4, 10, 4}), 45, 33).equal(fx->tensor("clipped3d")));
  CHECK(remove_small_boxes(b, 12.5).equal(fx->tensor("small_kept")));
  for (const char* in : {"xyxy", "xywh", "cxcywh"}) {
    for (const char* out : {"xyxy", "xywh", "cxcywh"}) {
      INFO(in << " -> " << out);
      CHECK(max_abs_diff(box_convert(b, in, out), fx->tensor(std::string("convert.") + in + "." + out)) == 0.0);
    }
  }
}

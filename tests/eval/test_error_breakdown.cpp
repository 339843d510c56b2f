// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The error breakdown of YOLO v1's figure 4 on hand-made images: one detection of each kind, then the rules
// around them (duplicates, difficult objects, the top-N cut, similar groups).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "eval/error_breakdown.h"
#include "eval/eval_test_util.h"

using namespace detlab;
using namespace detlab::testing;

namespace {

int64_t n(const ClassErrorBreakdown& c, ErrorKind k) { return c.counts[static_cast<size_t>(k)]; }

// Classes: 0 "c0" (the class under study), 1 "c1" (similar to c0), 2 "c2" (not similar).
Dataset five_kinds_gt() {
  Dataset gt = make_dataset(3, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 100, 100}),     // A: detected correctly
                          object(0, {200, 0, 300, 100}),   // B: detected too loosely (IoU 0.25)
                          object(1, {400, 0, 500, 100}),   // a c1 object
                          object(2, {600, 0, 700, 100}),   // a c2 object
                          object(0, {800, 0, 900, 100})};  // E: nobody finds it
  gt.images[1].objects = {object(0, {0, 0, 100, 100})};    // F: image 2, missed too
  return gt;
}

}  // namespace

TEST_CASE("error breakdown: one detection of each kind", "[eval][errors]") {
  const Dataset gt = five_kinds_gt();
  const DetectionSet dets = {{1,
                              {det(0, {0, 0, 100, 100}, 0.9f),       // correct
                               det(0, {200, 0, 250, 50}, 0.8f),      // localization: IoU 0.25 with B
                               det(0, {400, 0, 500, 100}, 0.7f),     // similar: on the c1 object
                               det(0, {600, 0, 700, 100}, 0.6f),     // other: on the c2 object
                               det(0, {1000, 0, 1100, 100}, 0.5f),   // background: overlaps nothing
                               det(0, {800, 0, 900, 100}, 0.1f)}}};  // would be correct, but below the top 4
  ErrorBreakdownOptions opts;
  opts.similar = {{0, 1}};
  opts.top = 5;
  const ErrorBreakdown b = error_breakdown(gt, dets, opts);
  const ClassErrorBreakdown& c0 = b.classes[0];
  CHECK(c0.num_gt == 4);
  CHECK(c0.total() == 5);
  for (ErrorKind k : {ErrorKind::kCorrect, ErrorKind::kLocalization, ErrorKind::kSimilar, ErrorKind::kOther,
                      ErrorKind::kBackground})
    CHECK(n(c0, k) == 1);
  CHECK(c0.fraction(ErrorKind::kCorrect) == Approx(0.2));
  CHECK(b.classes[1].total() == 0);  // no c1 detections: an empty row, fractions 0
  CHECK(b.classes[1].fraction(ErrorKind::kCorrect) == 0);
  CHECK(b.all.total() == 5);
  CHECK(b.all.num_gt == 6);

  // Without the similar group the c1 object is just another class.
  opts.similar.clear();
  const ErrorBreakdown plain = error_breakdown(gt, dets, opts);
  CHECK(n(plain.classes[0], ErrorKind::kSimilar) == 0);
  CHECK(n(plain.classes[0], ErrorKind::kOther) == 2);

  // The paper's N: as many detections as the class has objects (4 for c0), by score.
  opts.top = 0;
  const ErrorBreakdown top_n = error_breakdown(gt, dets, opts);
  CHECK(top_n.classes[0].total() == 4);
  CHECK(n(top_n.classes[0], ErrorKind::kBackground) == 0);  // the fifth detection is not among them
}

TEST_CASE("error breakdown: a duplicate is a localization error, a difficult object is ignored",
          "[eval][errors]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 100, 100}), object(0, {200, 0, 300, 100}, false, /*difficult=*/true),
                          object(0, {400, 0, 500, 100})};
  const DetectionSet dets = {{1,
                              {det(0, {0, 0, 100, 100}, 0.9f),      // correct
                               det(0, {0, 0, 100, 90}, 0.8f),       // the same object again: localization
                               det(0, {200, 0, 300, 100}, 0.7f),    // the difficult object: ignored
                               det(0, {400, 0, 500, 100}, 0.6f)}}};  // correct: the third one counted
  ErrorBreakdownOptions opts;
  opts.top = 3;
  const ErrorBreakdown b = error_breakdown(gt, dets, opts);
  CHECK(b.classes[0].num_gt == 2);  // the difficult object does not count
  CHECK(b.classes[0].total() == 3);  // the ignored detection did not take a place among the top 3
  CHECK(n(b.classes[0], ErrorKind::kCorrect) == 2);
  CHECK(n(b.classes[0], ErrorKind::kLocalization) == 1);
  // Scores decide the order, not the input order; ties keep the input order.
  const DetectionSet swapped = {{1, {det(0, {0, 0, 100, 90}, 0.9f), det(0, {0, 0, 100, 100}, 0.9f)}}};
  const ErrorBreakdown s = error_breakdown(gt, swapped, opts);
  CHECK(n(s.classes[0], ErrorKind::kCorrect) == 1);  // the first takes the object (IoU 0.9 > 0.5) ...
  CHECK(n(s.classes[0], ErrorKind::kLocalization) == 1);  // ... the exact box comes second: a duplicate
}

TEST_CASE("error breakdown: thresholds are strict, as the VOC metric's", "[eval][errors]") {
  Dataset gt = make_dataset(2, {1});
  gt.images[0].objects = {object(0, {0, 0, 100, 100}), object(1, {300, 0, 400, 100})};
  ErrorBreakdownOptions opts;
  opts.top = 1;
  auto kind_of = [&](int label, Box box) {
    const ErrorBreakdown b = error_breakdown(gt, {{1, {det(label, box, 1.f)}}}, opts);
    for (size_t k = 0; k < 5; ++k)
      if (b.classes[static_cast<size_t>(label)].counts[k]) return static_cast<ErrorKind>(k);
    FAIL("no detection counted");
    return ErrorKind::kCorrect;
  };
  CHECK(kind_of(0, {0, 0, 100, 50}) == ErrorKind::kLocalization);   // IoU exactly 0.5: not correct
  CHECK(kind_of(0, {0, 0, 100, 51}) == ErrorKind::kCorrect);        // 0.51
  CHECK(kind_of(0, {0, 0, 100, 10}) == ErrorKind::kBackground);     // IoU exactly 0.1: not an overlap
  CHECK(kind_of(0, {0, 0, 100, 11}) == ErrorKind::kLocalization);
  CHECK(kind_of(0, {300, 0, 400, 100}) == ErrorKind::kOther);       // on the class-1 object
  opts.similar = {{0, 1}};
  CHECK(kind_of(0, {300, 0, 400, 100}) == ErrorKind::kSimilar);
  CHECK(kind_of(1, {0, 0, 100, 100}) == ErrorKind::kSimilar);       // similarity is symmetric
}

TEST_CASE("error breakdown: tables and contracts", "[eval][errors]") {
  const Dataset gt = five_kinds_gt();
  const DetectionSet dets = {{1, {det(0, {0, 0, 100, 100}, 0.9f), det(0, {1000, 0, 1100, 100}, 0.5f)}}};
  const ErrorBreakdown b = error_breakdown(gt, dets);
  const std::string csv = format_error_breakdown_csv(b, {"c,0", "c1", "c2"});
  CHECK(csv ==
        "class,num_gt,detections,correct,localization,similar,other,background\n"
        "\"c,0\",4,2,1,0,0,0,1\nc1,1,0,0,0,0,0,0\nc2,1,0,0,0,0,0,0\nall,6,2,1,0,0,0,1\n");
  const std::string md = format_error_breakdown(b, gt.class_names);
  CHECK(md.find("| c0 | 4 | 2 | 50.0 | 0.0 | 0.0 | 0.0 | 50.0 |") != std::string::npos);
  CHECK(md.find("| all | 6 | 2 | 50.0 |") != std::string::npos);

  ErrorBreakdownOptions bad;
  bad.similar = {{0, 3}};
  CHECK_THROWS_AS(error_breakdown(gt, dets, bad), std::invalid_argument);
  bad = {};
  bad.min_overlap = 0.6;
  CHECK_THROWS_AS(error_breakdown(gt, dets, bad), std::invalid_argument);
}

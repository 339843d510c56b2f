// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The error breakdown across an ablation's rows: shares read from errors.csv's "all" row, and errors.md.
#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiment/error_shares.h"
#include "support/cli_runner.h"

using namespace detlab;

TEST_CASE("error shares: the all row of errors.csv as fractions, errors.md as percentages", "[experiment][errors]") {
  testing::TempDir tmp("detlab_test_error_shares");
  // 8 top detections of all classes: 4 correct, 2 localisation, 0 similar, 1 other, 1 background.
  write_file_atomic(tmp.path / "a.csv",
                    "class,num_gt,detections,correct,localization,similar,other,background\n"
                    "\"R,BC\",6,6,3,2,0,0,1\nWBC,2,2,1,0,0,1,0\nall,8,8,4,2,0,1,1\n");
  const auto a = read_error_shares(tmp.path / "a.csv");
  REQUIRE(a);
  CHECK((*a)[0] == Approx(0.5));
  CHECK((*a)[1] == Approx(0.25));
  CHECK((*a)[2] == 0.0);
  CHECK((*a)[3] == Approx(0.125));
  CHECK((*a)[4] == Approx(0.125));
  CHECK(error_share_metric(1) == "errors.localization");

  CHECK_FALSE(read_error_shares(tmp.path / "none.csv"));  // no breakdown asked for: no shares, no error
  write_file_atomic(tmp.path / "bad.csv", "class,num_gt\nRBC,3\n");
  CHECK_THROWS_AS(read_error_shares(tmp.path / "bad.csv"), InputError);
  write_file_atomic(tmp.path / "zero.csv", "h\nall,0,0,0,0,0,0,0\n");
  CHECK((*read_error_shares(tmp.path / "zero.csv"))[4] == 0.0);  // no detections: 0, not NaN

  ErrorShares b{0.7, 0.1, 0.0, 0.1, 0.1};
  const std::string md = format_error_shares({{"YOLO", {*a, b}}, {"empty", {}}}, "breakdown");
  CHECK(md.find("| YOLO | 2 | 60.0 ± 14.1 | 17.5 ± 10.6 |") != std::string::npos);
  CHECK(md.find("empty") == std::string::npos);  // rows without a breakdown are left out
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the learning-rate schedule at hand-computed iterations.
#include "catch_torch.h"

#include <cmath>

#include "config/config.h"
#include "core/error.h"
#include "train/schedule.h"

using namespace detlab;

TEST_CASE("linear warm-up then step decay", "[train][schedule]") {
  ScheduleOptions o;
  o.warmup_iters = 100;
  o.warmup_factor = 0.001;
  o.milestones = {300, 400};
  o.gamma = 0.1;
  const LrSchedule s(o, 500, 10);
  CHECK(s.factor(0) == Approx(0.001));
  CHECK(s.factor(50) == Approx(0.001 * 0.5 + 0.5));   // 0.5005
  CHECK(s.factor(99) == Approx(0.001 * 0.01 + 0.99));  // 0.99001
  CHECK(s.factor(100) == 1.0);
  CHECK(s.factor(299) == 1.0);
  CHECK(s.factor(300) == Approx(0.1));  // a milestone applies from that iteration on (bisect_right)
  CHECK(s.factor(399) == Approx(0.1));
  CHECK(s.factor(400) == Approx(0.01));
  CHECK(s.factor(499) == Approx(0.01));
}

TEST_CASE("milestones in epochs are converted with the epoch length", "[train][schedule]") {
  ScheduleOptions o;
  o.milestones = {2, 3.5};
  o.milestones_in_epochs = true;
  const LrSchedule s(o, 100, 20);
  CHECK(s.milestones() == std::vector<int64_t>{40, 70});
  CHECK(s.factor(39) == 1.0);
  CHECK(s.factor(40) == Approx(0.1));
  CHECK(s.factor(70) == Approx(0.01));
}

TEST_CASE("cosine decay with warm-up, and the constant schedule", "[train][schedule]") {
  ScheduleOptions o;
  o.type = ScheduleOptions::Type::kCosine;
  o.warmup_iters = 10;
  o.warmup_factor = 0.1;
  const LrSchedule s(o, 200, 10);
  CHECK(s.factor(0) == Approx(0.1));
  // i = 5: warm-up 0.1 * 0.5 + 0.5 = 0.55; cosine 0.5 * (1 + cos(pi * 5 / 200)).
  CHECK(s.factor(5) == Approx(0.55 * 0.5 * (1 + std::cos(M_PI * 5 / 200))));
  CHECK(s.factor(100) == Approx(0.5));
  CHECK(s.factor(150) == Approx(0.5 * (1 + std::cos(M_PI * 0.75))));  // 0.1464
  CHECK(s.factor(200) == Approx(0.0).margin(1e-12));
  o.final_factor = 0.01;
  CHECK(LrSchedule(o, 200, 10).factor(100) == Approx(0.01 + 0.99 * 0.5));
  CHECK(LrSchedule(o, 200, 10).factor(200) == Approx(0.01));
  o.type = ScheduleOptions::Type::kConstant;
  o.warmup_iters = 0;
  CHECK(LrSchedule(o, 200, 10).factor(123) == 1.0);
}

TEST_CASE("parse_schedule reads its keys, milestones follow the run's unit", "[train][schedule]") {
  Config c = Config::parse("schedule: step\nwarmup_iters: 50\nwarmup_factor: 0.01\nmilestones: [8, 11]\n"
                           "gamma: 0.5\nepochs: 12\n");
  const ScheduleOptions o = parse_schedule(c);
  CHECK(o.type == ScheduleOptions::Type::kStep);
  CHECK(o.warmup_iters == 50);
  CHECK(o.warmup_factor == 0.01);
  CHECK(o.milestones == std::vector<double>{8, 11});
  CHECK(o.milestones_in_epochs);
  CHECK(o.gamma == 0.5);
  CHECK_FALSE(parse_schedule(Config::parse("iterations: 100\nmilestones: [60]")).milestones_in_epochs);
  CHECK(parse_schedule(Config::parse("schedule: cosine\nfinal_lr_factor: 0.05")).final_factor == 0.05);
  CHECK_THROWS_WITH(parse_schedule(Config::parse("schedule: poly")), Catch::Contains("schedule") && Catch::Contains("poly"));
  CHECK_THROWS_WITH(parse_schedule(Config::parse("milestones: [10, 5]")), Catch::Contains("ascending"));
  CHECK_THROWS_AS(parse_schedule(Config::parse("schedule: cosine\nmilestones: [5]")), InputError);
  CHECK_THROWS_AS(parse_schedule(Config::parse("warmup_factor: 2")), InputError);
}

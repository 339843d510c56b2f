// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of train_log.csv: columns, appending, truncation on resume (later rows, torn last line).
#include "catch_torch.h"

#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "train/train_log.h"
#include "train_fixtures.h"

using namespace detlab;

namespace {
TrainLogRow row(int64_t it, double a, double b) {
  TrainLogRow r;
  r.iteration = it;
  r.epoch = it / 10;
  r.losses = {{"loss_b", b}, {"loss_a", a}};
  r.total = a + b;
  r.lr = 0.01;
  r.elapsed_seconds = it * 0.5;
  return r;
}
}  // namespace

TEST_CASE("train_log.csv has sorted loss columns and keeps rows up to the resume point", "[train][train_log]") {
  const auto dir = detlab::test::temp_dir("train_log");
  const auto file = dir / "train_log.csv";
  {
    TrainLog log(file, 0);
    for (int64_t it : {5, 10, 15, 20}) log.append(row(it, 0.5, 0.25));
  }
  auto rows = TrainLog::read(file);
  REQUIRE(rows.size() == 5);
  CHECK(rows[0] == std::vector<std::string>{"iteration", "epoch", "loss_a", "loss_b", "total_loss", "lr", "elapsed_s"});
  CHECK(rows[1] == std::vector<std::string>{"5", "0", "0.5", "0.25", "0.75", "0.01", "2.500"});

  // A killed run: a torn last line after the rows.
  { std::ofstream(file, std::ios::app) << "25,2,0.5"; }
  {
    TrainLog log(file, 10);  // resumed from the checkpoint at iteration 10
    log.append(row(15, 1.5, 1.0));
  }
  rows = TrainLog::read(file);
  REQUIRE(rows.size() == 4);
  CHECK(rows[2][0] == "10");
  CHECK(rows[3][0] == "15");
  CHECK(rows[3][2] == "1.5");

  TrainLog log(file, 15);
  TrainLogRow other = row(20, 1, 1);
  other.losses = {{"loss_c", 1.0}};
  CHECK_THROWS_WITH(log.append(other), Catch::Contains("train_log.csv") && Catch::Contains("losses changed"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a fresh log replaces an old one", "[train][train_log]") {
  const auto dir = detlab::test::temp_dir("train_log_fresh");
  const auto file = dir / "train_log.csv";
  write_file_atomic(file, std::string("old,content\n"));
  {
    TrainLog log(file, 0);
    log.append(row(1, 1, 2));
  }
  CHECK(TrainLog::read(file).size() == 2);
  std::filesystem::remove_all(dir);
}

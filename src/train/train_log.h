// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train_log.csv: one row per logging window (iteration, epoch, each loss, total, lr, elapsed seconds).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace detlab {

/// One row: the losses are means over the iterations since the previous row.
struct TrainLogRow {
  int64_t iteration = 0;  // optimizer steps taken (1-based count)
  int64_t epoch = 0;      // 0-based epoch of that iteration
  std::map<std::string, double> losses;  // loss name -> mean (the columns, sorted by name)
  double total = 0;
  double lr = 0;          // base learning rate of the last iteration of the window
  double elapsed_seconds = 0;
};

/// Appends rows to a CSV file, flushing each, so that a killed run leaves every row it logged.
/// Header: iteration,epoch,<loss names...>,total_loss,lr,elapsed_s.
/// Opening with keep_through > 0 (a resume from that iteration) keeps the header and the complete rows with
/// iteration <= keep_through and drops the rest (rows the killed run wrote after its last checkpoint, or a
/// torn last line), so that the finished log equals an uninterrupted run's except for the time column.
/// keep_through == 0 starts a new file.
class TrainLog {
 public:
  TrainLog(std::filesystem::path file, int64_t keep_through);
  /// The first row fixes the columns; later rows must have the same loss names (InputError naming the file
  /// otherwise, e.g. when resuming a run with a different model).
  void append(const TrainLogRow& row);
  const std::filesystem::path& file() const { return file_; }

  /// Parses a log written by this class (for tests and plots): header + rows as strings.
  static std::vector<std::vector<std::string>> read(const std::filesystem::path& file);

 private:
  std::filesystem::path file_;
  std::vector<std::string> loss_names_;  // columns, once known
  std::ofstream out_;
};

}  // namespace detlab

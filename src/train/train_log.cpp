// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train_log.csv writer with resume truncation.
#include "train/train_log.h"

#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/write_error.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

std::string header_of(const std::vector<std::string>& loss_names) {
  std::string h = "iteration,epoch";
  for (const std::string& n : loss_names) h += "," + n;
  return h + ",total_loss,lr,elapsed_s";
}

std::string format_double(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

TrainLog::TrainLog(fs::path file, int64_t keep_through) : file_(std::move(file)) {
  if (file_.has_parent_path()) fs::create_directories(file_.parent_path());
  if (keep_through > 0 && fs::exists(file_)) {
    std::istringstream in(read_file(file_));
    std::string line, kept;
    bool header = true;
    while (std::getline(in, line)) {
      if (in.eof() && !line.empty()) break;  // a torn last line (no newline): the kill came mid-write
      const std::vector<std::string> cells = split_csv(line);
      if (header) {
        if (cells.size() < 6 || cells[0] != "iteration" || cells[1] != "epoch")
          throw InputError(file_.string(), "header", "not a detlab train_log.csv");
        loss_names_.assign(cells.begin() + 2, cells.end() - 3);
        kept += line + "\n";
        header = false;
        continue;
      }
      if (cells.size() != loss_names_.size() + 5) continue;
      try {
        if (std::stoll(cells[0]) > keep_through) continue;
      } catch (const std::exception&) {
        continue;
      }
      kept += line + "\n";
    }
    write_file_atomic(file_, kept);
    out_.open(file_, std::ios::app);
  } else {
    out_.open(file_, std::ios::trunc);
  }
  if (!out_) throw InputError(file_.string(), "", "cannot open for writing");
}

void TrainLog::append(const TrainLogRow& row) {
  std::vector<std::string> names;
  for (const auto& kv : row.losses) names.push_back(kv.first);
  if (loss_names_.empty() && !names.empty()) {
    loss_names_ = names;
    out_ << header_of(loss_names_) << "\n";
  } else if (names != loss_names_) {
    throw InputError(file_.string(), "header",
                     "the losses changed: the log has columns " + header_of(loss_names_) + ", the model reports " +
                         header_of(names));
  }
  // %.9g: enough digits to tell apart any two float32 losses; the same doubles always print the same way.
  std::string line = std::to_string(row.iteration) + "," + std::to_string(row.epoch);
  for (const auto& kv : row.losses) line += "," + format_double(kv.second, "%.9g");
  line += "," + format_double(row.total, "%.9g") + "," + format_double(row.lr, "%.9g") + "," +
          format_double(row.elapsed_seconds, "%.3f");
  int err = 0;
  if (out_) {
    errno = 0;
    out_ << line << "\n";
    out_.flush();
    err = errno;
  }
  if (!out_) throw_write_error(file_, err);
}

std::vector<std::vector<std::string>> TrainLog::read(const fs::path& file) {
  std::istringstream in(read_file(file));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(split_csv(line));
  return rows;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
#include "experiment/error_shares.h"

#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/error_breakdown.h"
#include "experiment/stats.h"
#include "experiment/table.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

}  // namespace

std::optional<ErrorShares> read_error_shares(const fs::path& errors_csv) {
  if (!fs::exists(errors_csv)) return std::nullopt;
  std::istringstream in(read_file(errors_csv));
  std::string line;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split_commas(line);
    if (f.empty() || f[0] != "all") continue;
    if (f.size() != 8) throw InputError(errors_csv.string(), "all", "expected 8 fields (class, num_gt, detections, 5 kinds)");
    try {
      const double total = std::stod(f[2]);
      ErrorShares s{};
      for (size_t k = 0; k < 5; ++k) s[k] = total > 0 ? std::stod(f[3 + k]) / total : 0.0;
      return s;
    } catch (const std::exception&) {
      throw InputError(errors_csv.string(), "all", "counts must be numbers");
    }
  }
  throw InputError(errors_csv.string(), "all", "no 'all' row");
}

std::string error_share_metric(size_t kind) { return std::string("errors.") + error_kind_names().at(kind); }

std::string format_error_shares(const std::vector<ErrorShareRow>& rows, const std::string& caption) {
  Table t;
  t.caption = caption;
  t.header = {"row", "seeds"};
  for (const char* k : error_kind_names()) t.header.push_back(std::string(k) + " %");
  for (const ErrorShareRow& r : rows) {
    if (r.by_seed.empty()) continue;
    std::vector<Cell> row = {Cell::str(r.label), Cell::num(static_cast<double>(r.by_seed.size()), 0)};
    for (size_t k = 0; k < 5; ++k) {
      std::vector<double> v;
      for (const ErrorShares& s : r.by_seed) v.push_back(100 * s[k]);
      Cell c = Cell::num(sample_mean(v), 1);
      if (v.size() > 1) c.note = "\xC2\xB1 " + format_fixed(sample_std(v), 1);
      row.push_back(c);
    }
    t.rows.push_back(row);
  }
  return to_markdown(t) +
         "\nEach class's top N detections by score (N = its objects in the test split), classified after Hoiem et "
         "al. (2012) as YOLO v1's figure 4 does: correct (right class, IoU > 0.5), localization (right class, "
         "0.1 < IoU <= 0.5, or a duplicate), similar class, other class (IoU > 0.1), background (IoU <= 0.1 with "
         "every object); shares of all classes' top detections, mean ± sample std over seeds.\n";
}

}  // namespace detlab

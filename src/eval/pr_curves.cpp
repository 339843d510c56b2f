// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Per-class AP table and precision-recall CSV files.
#include "eval/pr_curves.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/csv.h"
#include "eval/numeric.h"

namespace detlab {

namespace {

std::string cell(double v, TableFormat f) {
  if (!std::isfinite(v) || v < 0) return f == TableFormat::kCsv ? "" : "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}


}  // namespace

std::string format_class_ap_table(const Evaluation& e, TableFormat format) {
  const auto& names = e.metrics.class_names;
  std::vector<std::string> header = {"class", "gt"};
  if (e.coco) header.insert(header.end(), {"AP", "AP50"});
  if (e.voc07) header.push_back("VOC07 AP");
  if (e.voc12) header.push_back("VOC12 AP");
  std::vector<std::vector<std::string>> rows;
  std::vector<double> coco_ap, coco_ap50;
  for (size_t k = 0; k < names.size(); ++k) {
    std::vector<std::string> row = {names[k]};
    int64_t num_gt = -1;
    if (e.voc07) num_gt = e.voc07->classes[k].num_gt;
    if (e.voc12) num_gt = e.voc12->classes[k].num_gt;
    if (e.coco && num_gt < 0) {
      size_t all = 0;  // the "all" area range (pycocotools' first)
      for (size_t a = 0; a < e.coco->A(); ++a)
        if (e.coco->options.area_ranges[a].label == "all") all = a;
      num_gt = e.coco->num_gt[k * e.coco->A() + all];
    }
    row.push_back(num_gt >= 0 ? std::to_string(num_gt) : "");
    if (e.coco) {
      const double ap = coco_class_ap(*e.coco, static_cast<int>(k)), ap50 = coco_class_ap(*e.coco, static_cast<int>(k), .5);
      if (ap > -1) coco_ap.push_back(ap);
      if (ap50 > -1) coco_ap50.push_back(ap50);
      row.push_back(cell(ap, format)), row.push_back(cell(ap50, format));
    }
    if (e.voc07) row.push_back(cell(e.voc07->classes[k].ap, format));
    if (e.voc12) row.push_back(cell(e.voc12->classes[k].ap, format));
    rows.push_back(row);
  }
  std::vector<std::string> mean = {"mean", ""};
  if (e.coco) mean.push_back(cell(numpy_mean(coco_ap), format)), mean.push_back(cell(numpy_mean(coco_ap50), format));
  if (e.voc07) mean.push_back(cell(e.voc07->map, format));
  if (e.voc12) mean.push_back(cell(e.voc12->map, format));
  rows.push_back(mean);

  std::ostringstream os;
  if (format == TableFormat::kCsv) {
    for (size_t c = 0; c < header.size(); ++c) os << (c ? "," : "") << csv_field(header[c]);
    os << "\n";
    for (const auto& row : rows) {
      for (size_t c = 0; c < row.size(); ++c) os << (c ? "," : "") << csv_field(row[c]);
      os << "\n";
    }
    return os.str();
  }
  os << "|";
  for (const auto& h : header) os << " " << h << " |";
  os << "\n|";
  for (size_t c = 0; c < header.size(); ++c) os << (c == 0 ? "---|" : "---:|");
  os << "\n";
  for (const auto& row : rows) {
    os << "|";
    for (const auto& v : row) os << " " << v << " |";
    os << "\n";
  }
  return os.str();
}

std::string class_file_stem(const std::string& name, int label) {
  if (name.empty()) return "class_" + std::to_string(label);
  std::string s = name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (s == "." || s == "..") s = "class_" + std::to_string(label);
  return s;
}

std::vector<std::filesystem::path> write_pr_curves(const std::filesystem::path& dir, const VocResult& r,
                                                   const std::vector<std::string>& class_names) {
  std::vector<std::filesystem::path> files;
  for (size_t k = 0; k < r.classes.size(); ++k) {
    const VocClassResult& c = r.classes[k];
    const std::string name = k < class_names.size() ? class_names[k] : "";
    std::vector<double> envelope = c.precision;
    for (size_t i = envelope.size(); i-- > 1;) envelope[i - 1] = std::max(envelope[i - 1], envelope[i]);
    std::ostringstream os;
    os << "rank,score,recall,precision,interpolated_precision\n";
    char buf[160];
    if (c.num_gt > 0) {
      for (size_t i = 0; i < c.scores.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%zu,%.9g,%.9g,%.9g,%.9g\n", i + 1, c.scores[i], c.recall[i], c.precision[i],
                      envelope[i]);
        os << buf;
      }
    }
    files.push_back(dir / (class_file_stem(name, static_cast<int>(k)) + ".csv"));
    write_file_atomic(files.back(), os.str());
  }
  return files;
}

std::vector<std::filesystem::path> write_coco_pr_curves(const std::filesystem::path& dir, const CocoEvalResult& r,
                                                        const std::vector<std::string>& class_names) {
  size_t all = 0;  // pycocotools' first range is "all"; look it up by label for custom ranges
  for (size_t a = 0; a < r.A(); ++a)
    if (r.options.area_ranges[a].label == "all") all = a;
  const size_t m = r.M() - 1;
  std::vector<std::filesystem::path> files;
  for (size_t t = 0; t < r.T(); ++t) {
    std::ostringstream os;
    os << "class,recall,precision,score\n";
    char buf[160];
    for (int k = 0; k < r.num_classes; ++k) {
      if (r.num_gt[static_cast<size_t>(k) * r.A() + all] <= 0) continue;
      const std::string name = csv_field(k < static_cast<int>(class_names.size()) ? class_names[k] : "");
      for (size_t ri = 0; ri < r.R(); ++ri) {
        std::snprintf(buf, sizeof buf, ",%.9g,%.9g,%.9g\n", r.options.rec_thresholds[ri],
                      r.precision_at(t, ri, k, all, m), r.score_at(t, ri, k, all, m));
        os << name << buf;
      }
    }
    char stem[40];
    std::snprintf(stem, sizeof stem, "coco_iou%.2f.csv", r.options.iou_thresholds[t]);
    files.push_back(dir / stem);
    write_file_atomic(files.back(), os.str());
  }
  return files;
}

}  // namespace detlab

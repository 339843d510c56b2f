// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parse_eval_settings / report_options.
#include "experiment/eval_settings.h"

#include <cmath>
#include <set>

#include "config/checked.h"
#include "core/error.h"

namespace detlab {

namespace {

std::vector<Protocol> read_protocols(const Config& p) {
  std::string joined;
  if (p.is_sequence()) {
    for (const std::string& s : p.as<std::vector<std::string>>()) joined += (joined.empty() ? "" : ",") + s;
  } else {
    joined = p.as<std::string>();
  }
  try {
    return parse_protocols(joined, p.path());
  } catch (const InputError& err) {
    throw InputError(p.file(), p.path(), err.what());
  }
}

std::vector<double> read_thresholds(const Config& node, const std::string& key, std::vector<double> fallback) {
  if (!node.has(key)) return fallback;
  const std::vector<double> t = node.get<std::vector<double>>(key);
  if (t.empty()) config_error(node, key, "needs at least one threshold");
  for (size_t i = 0; i < t.size(); ++i) {
    if (!(t[i] > 0 && t[i] < 1)) config_error(node, key, "thresholds must be in (0, 1), got " + std::to_string(t[i]));
    if (i > 0 && !(t[i] > t[i - 1])) config_error(node, key, "thresholds must be ascending");
  }
  return t;
}

void read_coco(const Config& c, CocoEvalOptions& o) {
  o.iou_thresholds = read_thresholds(c, "iou_thresholds", o.iou_thresholds);
  if (c.has("max_dets")) {
    o.max_dets = c.get<std::vector<int>>("max_dets");
    if (o.max_dets.empty()) config_error(c, "max_dets", "needs at least one value");
    for (size_t i = 0; i < o.max_dets.size(); ++i)
      if (o.max_dets[i] < 1 || (i > 0 && o.max_dets[i] <= o.max_dets[i - 1]))
        config_error(c, "max_dets", "values must be positive and ascending");
  }
  if (c.has("area_ranges")) {
    const Config ranges = c.child("area_ranges");
    if (!ranges.is_sequence() || ranges.size() == 0)
      config_error(c, "area_ranges", "expected a list of [label, min, max] (pixels^2), e.g. [[all, 0, 1e10]]");
    o.area_ranges.clear();
    std::set<std::string> labels;
    for (size_t i = 0; i < ranges.size(); ++i) {
      const Config r = ranges.at(i);
      if (!r.is_sequence() || r.size() != 3) config_error(c, "area_ranges", "each range is [label, min, max]");
      AreaRange a{r.at(0).as<std::string>(), r.at(1).as<double>(), r.at(2).as<double>()};
      if (!(a.min >= 0 && a.min <= a.max))
        config_error(c, "area_ranges", "range '" + a.label + "' needs 0 <= min <= max");
      if (!labels.insert(a.label).second) config_error(c, "area_ranges", "duplicate label '" + a.label + "'");
      o.area_ranges.push_back(a);
    }
  }
  c.expect_consumed();
}

void read_voc(const Config& v, VocOptions& o) {
  if (v.has("iou")) {
    o.iou_threshold = v.get<double>("iou");
    if (!(o.iou_threshold > 0 && o.iou_threshold < 1)) config_error(v, "iou", "must be in (0, 1)");
  }
  o.plus_one = v.get<bool>("plus_one", o.plus_one);
  v.expect_consumed();
}

void read_confusion(const Config& node, EvalSettings& s) {
  const Config c = node.child("confusion");
  if (c.is_scalar()) {
    s.confusion = c.as<bool>();
    return;
  }
  if (!c.is_map()) config_error(node, "confusion", "expected true / false or {score: 0.5, iou: 0.5}");
  s.confusion = true;
  s.confusion_options.score_threshold = c.get<float>("score", s.confusion_options.score_threshold);
  s.confusion_options.iou_threshold = c.get<double>("iou", s.confusion_options.iou_threshold);
  if (!std::isfinite(s.confusion_options.score_threshold)) config_error(c, "score", "must be finite");
  if (!(s.confusion_options.iou_threshold > 0 && s.confusion_options.iou_threshold < 1))
    config_error(c, "iou", "must be in (0, 1)");
  c.expect_consumed();
}

void read_errors(const Config& node, EvalSettings& s) {
  const Config c = node.child("errors");
  if (c.is_scalar()) {
    s.errors = c.as<bool>();
    return;
  }
  if (!c.is_map())
    config_error(node, "errors", "expected true / false or {top: N, iou: 0.5, min_overlap: 0.1, similar: [[a, b]]}");
  s.errors = true;
  ErrorBreakdownOptions& o = s.error_options;
  o.top = c.get<int>("top", o.top);
  o.correct_iou = c.get<double>("iou", o.correct_iou);
  o.min_overlap = c.get<double>("min_overlap", o.min_overlap);
  if (o.top < 0) config_error(c, "top", "must be >= 0 (0: as many as the class has objects)");
  if (!(o.correct_iou > 0 && o.correct_iou < 1)) config_error(c, "iou", "must be in (0, 1)");
  if (!(o.min_overlap >= 0 && o.min_overlap < o.correct_iou)) config_error(c, "min_overlap", "must be in [0, iou)");
  if (c.has("similar")) {
    const Config groups = c.child("similar");
    if (!groups.is_sequence()) config_error(c, "similar", "expected a list of class-name lists, e.g. [[cat, dog]]");
    for (size_t g = 0; g < groups.size(); ++g) {
      const Config group = groups.at(g);
      if (!group.is_sequence() || group.size() < 2)
        config_error(c, "similar", "each group is a list of at least two class names");
      std::vector<std::string> names;
      for (size_t i = 0; i < group.size(); ++i) names.push_back(group.at(i).as<std::string>());
      s.error_similar.push_back(names);
    }
  }
  c.expect_consumed();
}

}  // namespace

EvalSettings parse_eval_settings(const Config& e) {
  EvalSettings s;
  if (e.is_null()) return s;
  if (!e.is_map()) throw InputError(e.file(), e.path(), "expected a map (protocols, max_images, coco, voc, ...)");
  if (e.has("protocols")) s.options.protocols = read_protocols(e.child("protocols"));
  s.max_images = e.get<int>("max_images", s.max_images);
  if (s.max_images < 0) config_error(e, "max_images", "must be >= 0");
  if (e.has("coco")) read_coco(e.child("coco"), s.options.coco);
  if (e.has("voc")) read_voc(e.child("voc"), s.options.voc);
  s.pr_curves = e.get<bool>("pr_curves", s.pr_curves);
  s.tide = e.get<bool>("tide", s.tide);
  if (e.has("confusion")) read_confusion(e, s);
  if (e.has("errors")) read_errors(e, s);
  e.expect_consumed();
  return s;
}

ReportOptions report_options(const EvalSettings& s, const std::filesystem::path& dir) {
  ReportOptions r;
  r.eval = s.options;
  r.tide = s.tide;
  r.confusion = s.confusion_options;
  r.errors = s.errors;
  r.error_options = s.error_options;
  r.error_similar = s.error_similar;
  if (dir.empty()) return r;
  r.metrics_json = dir / "metrics.json";
  r.table = dir / "class_ap.md";
  r.table_csv = dir / "class_ap.csv";
  if (s.pr_curves) r.pr_dir = dir / "pr";
  if (s.tide) r.tide_file = dir / "tide.txt";
  if (s.confusion) r.confusion_csv = dir / "confusion.csv";
  if (s.errors) r.errors_file = dir / "errors.md", r.errors_csv = dir / "errors.csv";
  return r;
}

}  // namespace detlab

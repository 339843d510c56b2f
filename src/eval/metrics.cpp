// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate(): runs the requested protocols and gathers their headline numbers; the printed summary.
#include "eval/metrics.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace detlab {

namespace {

VocMetrics headline(const VocResult& r) {
  VocMetrics m;
  m.map = r.map;
  for (const VocClassResult& c : r.classes) m.per_class.push_back(c.ap);
  return m;
}

}  // namespace

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kCoco: return "coco";
    case Protocol::kVoc07: return "voc07";
    case Protocol::kVoc12: return "voc12";
  }
  return "?";
}

std::vector<Protocol> parse_protocols(const std::string& text, const std::string& field) {
  std::vector<Protocol> out;
  std::stringstream ss(text);
  std::string item;
  auto add = [&](Protocol p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  while (std::getline(ss, item, ',')) {
    if (item == "all") {
      add(Protocol::kCoco), add(Protocol::kVoc07), add(Protocol::kVoc12);
    } else if (item == "coco") {
      add(Protocol::kCoco);
    } else if (item == "voc07") {
      add(Protocol::kVoc07);
    } else if (item == "voc12") {
      add(Protocol::kVoc12);
    } else {
      throw InputError("", field, "unknown protocol '" + item + "' (expected coco, voc07, voc12 or all)");
    }
  }
  if (out.empty()) throw InputError("", field, "no protocol given (expected coco, voc07, voc12 or all)");
  return out;
}

double Metrics::coco_stat(const std::string& key) const {
  DETLAB_REQUIRE(coco.has_value(), "no COCO metrics in this Metrics", key);
  const auto& names = coco_stat_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (key == names[i]) return (*coco)[i];
  DETLAB_REQUIRE(false, "unknown COCO stat", key);
  return 0;
}

Evaluation evaluate(const Dataset& gt, const DetectionSet& dets, const EvalOptions& opts) {
  check_detections(gt, dets);
  Evaluation e;
  e.metrics.class_names = gt.class_names;
  for (Protocol p : opts.protocols) {
    if (p == Protocol::kCoco) {
      CocoEvalOptions o = opts.coco;
      if (opts.threads > 0) o.threads = opts.threads;
      e.coco = evaluate_coco(gt, dets, o);
      e.metrics.coco = e.coco->stats;
    } else {
      VocOptions o = opts.voc;
      if (opts.threads > 0) o.threads = opts.threads;
      o.use_07_metric = p == Protocol::kVoc07;
      VocResult r = evaluate_voc(gt, dets, o);
      (p == Protocol::kVoc07 ? e.metrics.voc07 : e.metrics.voc12) = headline(r);
      (p == Protocol::kVoc07 ? e.voc07 : e.voc12) = std::move(r);
    }
  }
  return e;
}

std::string format_summary(const Evaluation& e) {
  std::string out;
  if (e.coco) out += "COCO bbox (pycocotools semantics)\n" + format_coco_summary(*e.coco);
  if (e.voc07) out += (out.empty() ? "" : "\n") + format_voc_summary(*e.voc07, e.metrics.class_names, "VOC07");
  if (e.voc12) out += (out.empty() ? "" : "\n") + format_voc_summary(*e.voc12, e.metrics.class_names, "VOC12");
  return out;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ScoreModel helpers: target and layer lookup, cached geometry, input preparation.
#include "viz/score_model.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "viz/receptive_field.h"

namespace detlab {

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

std::string ScoreModel::default_layer() const {
  const std::vector<std::string> l = layers();
  DETLAB_CHECK(!l.empty(), "a ScoreModel without layers");
  return l.back();
}

int64_t ScoreModel::score_index(const std::string& name_or_index, const std::string& what) const {
  const std::vector<std::string> names = score_names();
  const auto it = std::find(names.begin(), names.end(), name_or_index);
  if (it != names.end()) return it - names.begin();
  if (!name_or_index.empty() && std::all_of(name_or_index.begin(), name_or_index.end(), ::isdigit)) {
    const int64_t k = std::stoll(name_or_index);
    if (k < static_cast<int64_t>(names.size())) return k;
  }
  throw InputError("", what, "unknown target '" + name_or_index + "' (targets: " + join(names) + ", or 0.." +
                                 std::to_string(names.size() - 1) + ")");
}

void ScoreModel::require_layer(const std::string& layer, const std::string& what) const {
  const std::vector<std::string> l = layers();
  if (std::find(l.begin(), l.end(), layer) == l.end())
    throw InputError("", what, "unknown layer '" + layer + "' (layers: " + join(l) + ")");
}

LayerGeometry ScoreModel::geometry(const std::string& layer) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = geometry_cache_.find(layer);
    if (it != geometry_cache_.end()) return it->second;
  }
  const LayerGeometry g = probe_receptive_field(*this, layer);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  geometry_cache_[layer] = g;
  return g;
}

ModelInput make_input(const cv::Mat& bgr, ScoreModel& model, const std::string& name) {
  DETLAB_REQUIRE(!bgr.empty() && bgr.type() == CV_8UC3, bgr.type());
  Batch b = make_eval_batch({bgr}, model.transform());
  ModelInput in;
  in.bgr = bgr;
  in.name = name;
  in.tensor = b.images.to(model.device());
  in.meta = b.meta.front();
  return in;
}

TargetScore resolve_target(ScoreModel& model, const torch::Tensor& input, int64_t target) {
  torch::NoGradGuard no_grad;
  model.module().eval();
  const torch::Tensor s = model.forward(input.narrow(0, 0, 1), nullptr)[0].to(torch::kCPU, torch::kDouble);
  TargetScore t;
  t.target = target >= 0 ? target : s.argmax().item<int64_t>();
  DETLAB_REQUIRE(t.target < s.size(0), t.target, s.size(0));
  t.score = s[t.target].item<double>();
  return t;
}

}  // namespace detlab

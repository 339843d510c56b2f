// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Warm-up + step / cosine / constant learning-rate factors.
#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "config/config.h"
#include "core/error.h"

namespace detlab {

ScheduleOptions parse_schedule(const Config& node) {
  ScheduleOptions o;
  const std::string type = node.get<std::string>("schedule", "step");
  if (type == "step")
    o.type = ScheduleOptions::Type::kStep;
  else if (type == "cosine")
    o.type = ScheduleOptions::Type::kCosine;
  else if (type == "constant")
    o.type = ScheduleOptions::Type::kConstant;
  else
    throw InputError(node.file(), node.child_path("schedule"),
                     "unknown schedule '" + type + "' (known: step, cosine, constant)");
  o.warmup_iters = node.get<int64_t>("warmup_iters", o.warmup_iters);
  o.warmup_factor = node.get<double>("warmup_factor", o.warmup_factor);
  o.milestones = node.get<std::vector<double>>("milestones", o.milestones);
  o.milestones_in_epochs = node.has("epochs");
  o.gamma = node.get<double>("gamma", o.gamma);
  o.final_factor = node.get<double>("final_lr_factor", o.final_factor);
  if (o.warmup_iters < 0) throw InputError(node.file(), node.child_path("warmup_iters"), "must be >= 0");
  if (!(o.warmup_factor >= 0 && o.warmup_factor <= 1))
    throw InputError(node.file(), node.child_path("warmup_factor"), "must be in [0, 1]");
  if (!(o.gamma > 0)) throw InputError(node.file(), node.child_path("gamma"), "must be positive");
  for (size_t i = 0; i < o.milestones.size(); ++i)
    if (!(o.milestones[i] >= 0) || (i > 0 && o.milestones[i] < o.milestones[i - 1]))
      throw InputError(node.file(), node.child_path("milestones"), "must be non-negative and ascending");
  if (o.type != ScheduleOptions::Type::kStep && !o.milestones.empty())
    throw InputError(node.file(), node.child_path("milestones"), "only the step schedule has milestones");
  return o;
}

LrSchedule::LrSchedule(const ScheduleOptions& opts, int64_t total_iterations, int64_t iters_per_epoch)
    : opts_(opts), total_(total_iterations) {
  DETLAB_REQUIRE(total_iterations >= 1 && iters_per_epoch >= 1, total_iterations, iters_per_epoch);
  for (double m : opts.milestones) {
    DETLAB_REQUIRE(m >= 0, "milestone", m);
    const double it = opts.milestones_in_epochs ? m * static_cast<double>(iters_per_epoch) : m;
    milestones_.push_back(static_cast<int64_t>(std::llround(it)));
  }
  DETLAB_REQUIRE(std::is_sorted(milestones_.begin(), milestones_.end()), "milestones must be ascending");
}

double LrSchedule::factor(int64_t i) const {
  double warm = 1.0;
  if (i < opts_.warmup_iters) {
    const double alpha = static_cast<double>(i) / static_cast<double>(opts_.warmup_iters);
    warm = opts_.warmup_factor * (1.0 - alpha) + alpha;
  }
  double decay = 1.0;
  switch (opts_.type) {
    case ScheduleOptions::Type::kStep: {
      const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), i) - milestones_.begin();
      decay = std::pow(opts_.gamma, static_cast<double>(passed));
      break;
    }
    case ScheduleOptions::Type::kCosine: {
      const double t = std::min(1.0, static_cast<double>(i) / static_cast<double>(total_));
      decay = opts_.final_factor + (1.0 - opts_.final_factor) * 0.5 * (1.0 + std::cos(M_PI * t));
      break;
    }
    case ScheduleOptions::Type::kConstant:
      break;
  }
  return warm * decay;
}

}  // namespace detlab

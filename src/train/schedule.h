// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Learning-rate schedule: linear warm-up, then step decay, cosine decay or a constant rate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace detlab {

class Config;

/// The learning rate at iteration i (0-based, the number of optimizer steps already taken) is
/// base_lr * warmup(i) * decay(i), as detectron2's WarmupMultiStepLR / WarmupCosineLR:
///   warmup(i) = warmup_factor * (1 - i / warmup_iters) + i / warmup_iters   for i < warmup_iters, else 1
///   step:     decay(i) = gamma ^ (number of milestones <= i)
///   cosine:   decay(i) = final_factor + (1 - final_factor) * (1 + cos(pi * i / total)) / 2
///   constant: decay(i) = 1
struct ScheduleOptions {
  enum class Type { kStep, kCosine, kConstant };
  Type type = Type::kStep;
  int64_t warmup_iters = 0;
  double warmup_factor = 0.001;   // detectron2's default warm-up start factor
  std::vector<double> milestones; // step: iterations, or epochs when milestones_in_epochs
  bool milestones_in_epochs = false;
  double gamma = 0.1;
  double final_factor = 0.0;      // cosine: decay reaches this at the last iteration
};

/// Reads warmup_iters, warmup_factor, schedule (step | cosine | constant), milestones, gamma,
/// final_lr_factor from the train node. milestones count epochs when the node sets `epochs`, iterations
/// when it sets `iterations` (torchvision's references count epochs, detectron2 iterations).
ScheduleOptions parse_schedule(const Config& train_node);

/// A schedule resolved for one run.
class LrSchedule {
 public:
  /// requires: total_iterations >= 1; iters_per_epoch >= 1; milestones ascending and non-negative.
  LrSchedule(const ScheduleOptions& opts, int64_t total_iterations, int64_t iters_per_epoch);
  /// warmup(i) * decay(i); a pure function of i.
  double factor(int64_t iteration) const;
  /// Milestones in iterations.
  const std::vector<int64_t>& milestones() const { return milestones_; }

 private:
  ScheduleOptions opts_;
  int64_t total_;
  std::vector<int64_t> milestones_;
};

}  // namespace detlab

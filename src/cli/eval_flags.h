// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The evaluation flags both `detlab eval` modes share: each is an override of the config's `eval:` section.
#pragma once

#include <string>
#include <vector>

#include "cli/options.h"

namespace detlab::cli {

struct EvalFlags {
  std::string protocols, coco_iou, max_dets, area_ranges, iou, score;  // as typed: the parser checks them
  bool plus_one = false, no_plus_one = false, tide = false, errors = false, confusion = false, no_pr = false,
       classes = false;
};

/// --protocol, --iou, --plus-one / --no-plus-one, --coco-iou, --max-dets, --area-ranges, --tide, --errors,
/// --confusion, --score, --no-pr, --classes.
void add_eval_flags(po::options_description& desc, EvalFlags& flags);

/// The given flags as `eval.*` overrides ("eval.voc.iou=0.7", "eval.tide=true", ...), so that a model's
/// evaluation and an external file's read them through the same parser (experiment/eval_settings.h).
/// po::error for --plus-one with --no-plus-one.
std::vector<std::string> eval_overrides(const EvalFlags& flags, const po::variables_map& vm);

}  // namespace detlab::cli

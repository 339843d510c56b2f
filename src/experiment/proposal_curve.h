// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal recall versus number of proposals of a config's proposal stage, cached in a JSON file.
#pragma once

#include <filesystem>
#include <string>

#include "eval/proposal_recall.h"
#include "experiment/run_config.h"

namespace detlab {

struct ProposalCurveOptions {
  std::filesystem::path out_file;  // required: the JSON written (and reused when its key matches)
  std::string label;               // legend name
  int max_images = 0;              // first N test images (0 = the config's eval.max_images, else all)
  int threads = 0;                 // images in parallel
  bool recompute = false;          // ignore a cached file
  /// Added to the cache key: e.g. the train keys of the models a stage loads (an RPN from a trained model
  /// folder), so that a retrained model invalidates the cached curve.
  std::string extra_key;
};

struct ProposalCurve {
  ProposalRecallResult recall;
  double seconds_per_image = 0;    // one image per thread, mean wall time of propose()
  double proposals_per_image = 0;
  int images = 0;
  bool reused = false;
};

/// Builds `detector.proposals` of the config (InputError when there is none), fits it on the training split
/// (learned window shapes), runs it on the test split and evaluates recall at IoU 0.5 / 0.7 and AR for
/// N = 10 ... 2000 (eval/proposal_recall.h). Writes out_file {format_version, key, label, stage, images,
/// num_gt, top_n, recall_50, recall_70, average_recall, seconds_per_image, proposals_per_image}; a file with
/// the same key (hash of the data set node, the proposal node and the image count) is reused.
ProposalCurve run_proposal_curve(const RunConfig& rc, const ProposalCurveOptions& opts);

}  // namespace detlab

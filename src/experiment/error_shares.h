// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The error breakdown of YOLO v1's figure 4 across an ablation's rows: what share of the top detections is
// correct, a localisation error, a similar-class, other-class or background error, per row over seeds.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace detlab {

/// Shares in eval/error_breakdown.h's order (correct, localization, similar, other, background).
using ErrorShares = std::array<double, 5>;

/// The shares of the "all" row of a run's errors.csv (eval.errors: true): each kind's count over the row's
/// detections (0 when it has none). nullopt when the file does not exist; InputError naming the file when
/// it exists without a well-formed "all" row.
std::optional<ErrorShares> read_error_shares(const std::filesystem::path& errors_csv);

/// "errors.correct", "errors.localization", ...: the metric names claims and results.json use.
std::string error_share_metric(size_t kind);

struct ErrorShareRow {
  std::string label;                 // the row's label
  std::vector<ErrorShares> by_seed;  // one per finished seed that has an errors.csv
};

/// errors.md: one row per table row, each kind as the mean share in percent ± sample std over seeds, and a
/// line naming the method (Hoiem et al. categories, each class's top N detections, N = its objects).
std::string format_error_shares(const std::vector<ErrorShareRow>& rows, const std::string& caption);

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The comparison spec (experiments/bccd/compare.yaml): which detector configs to train and score side by side.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace detlab {

/// One row of the comparison: an experiment config plus overrides.
struct CompareEntry {
  std::string label;                 // row name in tables and plots ("Faster R-CNN"); unique
  std::string slug;                  // folder name derived from the label ("faster_r_cnn"); unique
  std::filesystem::path config;      // experiment config (relative to the current directory)
  std::vector<std::string> set;      // "a.b=value" overrides of this entry
  std::vector<std::string> quick;    // more overrides under --quick
  int index = 0;                     // position in the spec's full entry list: fixes the colour in every plot
};

/// A proposal stage whose recall versus number of proposals is plotted: `detector.proposals` of a config.
struct ProposalEntry {
  std::string label, slug;
  std::filesystem::path config;
  std::vector<std::string> set, quick;
};

/// Top-level keys: name, dataset, eval, set, seeds, entries, proposals, plots, quick (experiments/README.md).
/// `dataset` / `eval` replace every entry's own; `set` applies to every entry; `quick` has keys set, only
/// (labels kept), seeds, max_images (eval.max_images of every entry), plots (as `plots`), proposals (labels).
struct CompareSpec {
  std::filesystem::path file;
  std::string name;
  std::string dataset_yaml;  // canonical YAML of `dataset`; empty: entries keep their own
  std::string eval_yaml;     // canonical YAML of `eval`; empty: entries keep their own
  std::vector<std::string> set;
  std::vector<uint64_t> seeds = {0};
  std::vector<CompareEntry> entries;
  std::vector<ProposalEntry> proposals;
  int sample_images = 4;         // plots.images: test images in the detection grid
  int proposal_images = 0;       // plots.proposal_images: test images for proposal recall (0 = eval's)
  int max_images = 0;            // quick.max_images: eval.max_images of every entry (0 = as configured)
  bool quick = false;            // the quick preset was applied
  std::string resolved_yaml;     // the spec after _base_ (for the manifest)

  /// Overrides for an entry, in the order they apply: dataset, eval, spec set, entry set, quick ones, extra.
  std::vector<std::string> overrides_for(const CompareEntry& e, const std::vector<std::string>& extra = {}) const;
  std::vector<std::string> overrides_for(const ProposalEntry& e, const std::vector<std::string>& extra = {}) const;
};

/// Reads a spec (with _base_). quick = true applies the `quick` section: drops entries not in quick.only,
/// appends quick.set / each entry's quick overrides, replaces seeds / plots when given.
/// InputError naming the file and dotted key for: unknown keys, missing name / entries, an entry without
/// label or config, duplicate labels (or labels that map to one folder name), empty seeds, quick.only labels
/// that are not entries. Entry config files are not opened here (a missing one fails only its own row).
CompareSpec load_compare_spec(const std::filesystem::path& file, bool quick);
CompareSpec parse_compare_spec(const std::string& yaml, bool quick, const std::string& source = "<string>");

/// A label as a folder name: ASCII letters and digits lower-cased, every other run of characters one '_',
/// no leading / trailing '_' ("HOG+SVM (dlib)" -> "hog_svm_dlib"); "entry" when nothing is left.
std::string slugify(const std::string& label);

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Every YAML file under experiments/ is read and built, without training, so that a renamed key, a missing
// file or a config that points at a folder nothing creates fails here: experiment configs build their detector
// (or classifier), comparison specs load (full and quick) and every entry builds, ablation specs dry-run (every
// point builds), stage snippets build in the slot of their type, base fragments are inherited by a built config.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <sstream>

#include "cli/classifier_train.h"
#include "detectors/crop_classifier.h"
#include "config/config.h"
#include "core/atomic_file.h"
#include "experiment/ablate.h"
#include "experiment/compare_spec.h"
#include "experiment/run_config.h"
#include "pipeline/registries.h"
#include "support/cli_runner.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

enum class Kind { kExperiment, kCompare, kAblation, kStage, kBase };

/// What a shipped YAML file is, from its top-level keys (after `_base_`).
Kind kind_of(const Config& c) {
  if (c.has("entries")) return Kind::kCompare;
  if (c.has("base") && (c.has("grid") || c.has("rows"))) return Kind::kAblation;
  if (c.has("detector") || c.has("classifier")) return Kind::kExperiment;
  if (c.has("type")) return Kind::kStage;
  return Kind::kBase;
}

std::vector<fs::path> shipped(Kind kind) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator("experiments"))
    if (e.path().extension() == ".yaml" && kind_of(Config::load(e.path())) == kind) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Every shipped YAML file and README as one text, to find which files name a snippet or base fragment.
std::string all_text() {
  std::string s;
  for (const auto& e : fs::recursive_directory_iterator("experiments"))
    if (e.path().extension() == ".yaml") s += read_file(e.path()) + "\n";
  return s;
}

/// Builds what the config describes: a classifier (viz/), a proposal stage alone (a detector node with proposals
/// but no features: the configs of `detlab eval-proposals`, built as that command builds them), or a detector.
void build(const RunConfig& rc) {
  if (rc.root.has("classifier")) {
    cli::build_classifier(rc);
    return;
  }
  const Config det = rc.root.child("detector");
  if (det.has("proposals") && !det.has("features")) {
    BuildContext ctx;
    ctx.registries = &builtin_registries();
    ctx.class_names = rc.dataset.class_names;
    ctx.registries->proposals.build(det.child("proposals"), ctx);
    return;
  }
  build_detector(rc);
}

bool registered(const std::vector<std::string>& names, const std::string& type) {
  return std::find(names.begin(), names.end(), type) != names.end();
}

/// Whether some `_base_:` line of text names file (by any relative path ending in its name).
bool inherited(const std::string& text, const std::string& filename) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("_base_:", 0) != 0) continue;
    const std::string target = line.substr(line.find_first_not_of(' ', 7));
    if (target == filename || (target.size() > filename.size() &&
                               target.compare(target.size() - filename.size() - 1, std::string::npos, "/" + filename) == 0))
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("shipped experiment configs build", "[experiment][configs]") {
  const std::vector<fs::path> files = shipped(Kind::kExperiment);
  REQUIRE(files.size() >= 30);
  for (const fs::path& f : files) {
    INFO(f.string());
    CHECK_NOTHROW(build(load_run_config(f)));
  }
}

TEST_CASE("shipped comparison specs load and every entry builds", "[experiment][configs]") {
  const std::vector<fs::path> files = shipped(Kind::kCompare);
  REQUIRE_FALSE(files.empty());
  for (const fs::path& f : files)
    for (bool quick : {false, true}) {
      INFO(f.string() << (quick ? " --quick" : ""));
      const CompareSpec spec = load_compare_spec(f, quick);
      for (const CompareEntry& e : spec.entries) {
        INFO(e.label);
        CHECK_NOTHROW(build(load_run_config(e.config, spec.overrides_for(e))));
      }
      // Proposal entries may name this comparison's own output (${out}): read, not built.
      for (const ProposalEntry& p : spec.proposals) {
        INFO(p.label);
        CHECK_NOTHROW(load_run_config(p.config));
      }
    }
}

TEST_CASE("shipped ablation specs dry-run: every point builds", "[experiment][configs]") {
  const std::vector<fs::path> files = shipped(Kind::kAblation);
  REQUIRE(files.size() >= 10);
  testing::TempDir tmp("detlab_test_shipped_ablations");
  for (const fs::path& f : files) {
    INFO(f.string());
    const AblationSpec spec = load_ablation_spec(f);
    AblateOptions o;
    o.out_dir = tmp.path / f.stem();
    const std::vector<PointResult> points = dry_run_ablation(spec, o);
    REQUIRE_FALSE(points.empty());
    for (const PointResult& p : points) {
      INFO(p.point.slug << ": " << p.error);
      CHECK(p.ok);
    }
  }
}

TEST_CASE("shipped stage snippets build in the slot their type belongs to", "[experiment][configs]") {
  // Each snippet replaces its slot of a BCCD pipeline that has what its stage needs: proposals under the Fast
  // R-CNN head (a backbone for an rpn), features and classifiers in R-CNN's pipeline.
  const Registries& r = builtin_registries();
  const std::vector<fs::path> files = shipped(Kind::kStage);
  REQUIRE(files.size() >= 8);
  for (const fs::path& f : files) {
    INFO(f.string());
    const std::string type = Config::load(f).get<std::string>("type");
    std::string slot, base;
    if (registered(r.proposals.names(), type)) slot = "proposals", base = "experiments/bccd/fast_rcnn.yaml";
    if (registered(r.features.names(), type)) slot = "features", base = "experiments/bccd/rcnn.yaml";
    if (registered(r.classifiers.names(), type)) slot = "classifier", base = "experiments/bccd/rcnn.yaml";
    REQUIRE_FALSE(slot.empty());
    CHECK_NOTHROW(build(load_run_config(base, {"detector." + slot + "=@" + f.generic_string()})));
  }
}

TEST_CASE("shipped base fragments are inherited by a shipped config or swapped in by an ablation",
          "[experiment][configs]") {
  // A fragment named as `@path` by an ablation spec replaces a node in every point of that grid, and the
  // ablation dry-run above builds each point.
  const std::string text = all_text();
  for (const fs::path& f : shipped(Kind::kBase)) {
    INFO(f.string() << ": no shipped config inherits this fragment or swaps it in, so no test builds it");
    CHECK((inherited(text, f.filename().string()) || text.find("@" + f.generic_string()) != std::string::npos));
  }
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_ablation / collect_ablation: NMS IoU x 3 seeds on a tiny HOG+SVM, reuse of every finished point on a rerun,
// models shared across eval-only settings, and shards + collect giving the same table as one run.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "experiment/ablate.h"
#include "experiment/stats.h"
#include "support/tiny_configs.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

const char* const kTiny = testing::kTinyHogSvm;

AblationSpec nms_spec(const fs::path& dir) {
  write_file_atomic(dir / "tiny.yaml", kTiny);
  AblationSpec s = load_ablation_spec(dir / "tiny.yaml");
  add_axis(s, parse_grid_arg("detector.postprocess.nms_iou=0.3,0.5,0.7"));
  s.seeds = {0, 1, 2};
  s.eval_only = {"detector.postprocess"};
  return s;
}

fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("ablate: NMS IoU x 3 seeds, table with confidence intervals, rerun reuses every point",
          "[experiment][ablate]") {
  ProgressBar::set_enabled(false);
  const fs::path d = fresh("detlab_test_ablate");
  const AblationSpec spec = nms_spec(d);
  REQUIRE(spec.name == "tiny_ablation");
  AblateOptions o;
  o.out_dir = d / "out";
  o.threads = 2;
  const AblationRunResult r = run_ablation(spec, o);
  REQUIRE(r.points.size() == 9);
  REQUIRE(r.failed == 0);
  REQUIRE(r.trained == 3);  // one model per seed: NMS is eval-only
  REQUIRE(r.evaluated == 9);
  REQUIRE(r.reused == 0);

  CollectOptions co;
  co.plots = false;
  const AblationCollectResult c = collect_ablation(o.out_dir, co);
  REQUIRE(c.points == 9);
  REQUIRE(c.finished == 9);
  REQUIRE(c.missing.empty());
  REQUIRE(c.table.rows.size() == 3);
  REQUIRE(c.table.header[0] == "nms_iou");
  REQUIRE(c.table.header[1] == "seeds");
  REQUIRE(c.table.rows[1][0].text == "0.5");
  REQUIRE(c.table.rows[1][1].value == 3);
  // The AP cell is the mean of the three seeds' metrics.json, with "± std [lo, hi]".
  std::vector<double> ap;
  for (const PointResult& p : r.points)
    if (p.point.values[0] == "0.5") ap.push_back(p.outcome.metrics.coco_stat("AP"));
  REQUIRE(ap.size() == 3);
  REQUIRE(c.table.rows[1][2].value == Approx(sample_mean(ap)));
  const Interval ci = bootstrap_mean_ci(ap);
  REQUIRE(c.table.rows[1][2].note ==
          "\xC2\xB1 " + format_fixed(sample_std(ap), 3) + " [" + format_fixed(ci.lo, 3) + ", " + format_fixed(ci.hi, 3) + "]");
  const std::string md = read_file(o.out_dir / "table.md");
  REQUIRE(md.find("| nms_iou | seeds | AP | AP50 | AP75 | AR100 | VOC07 mAP | ms/img | train s |") != std::string::npos);
  REQUIRE(read_file(o.out_dir / "table.csv").rfind("nms_iou,seeds,AP_mean,AP_std,AP_ci_lo,AP_ci_hi,", 0) == 0);
  REQUIRE(read_file(o.out_dir / "table.tex").find("$\\pm$") != std::string::npos);
  const auto results = nlohmann::json::parse(read_file(o.out_dir / "results.json"));
  REQUIRE(results["rows"][1]["metrics"]["AP"]["values"].size() == 3);
  const auto manifest = nlohmann::json::parse(read_file(o.out_dir / "manifest.json"));
  REQUIRE(manifest["points"].size() == 9);
  REQUIRE(manifest["shards"].size() == 1);
  REQUIRE(manifest["example_resolved_config"].get<std::string>().find("nms_iou") != std::string::npos);

  // Rerun: every point is reused, nothing trained or evaluated.
  const AblationRunResult again = run_ablation(spec, o);
  REQUIRE(again.reused == 9);
  REQUIRE(again.trained == 0);
  REQUIRE(again.evaluated == 0);
  REQUIRE(to_markdown(collect_ablation(o.out_dir, co).table) == to_markdown(c.table));

  // Extending the grid runs only the new setting, reusing the seeds' models.
  AblationSpec more = spec;
  add_axis(more, parse_grid_arg("detector.postprocess.nms_iou=0.3,0.5,0.7,0.9"));
  const AblationRunResult extended = run_ablation(more, o);
  REQUIRE(extended.reused == 9);
  REQUIRE(extended.trained == 0);
  REQUIRE(extended.evaluated == 3);
}

TEST_CASE("ablate: shards then --collect equal one run, missing points are reported", "[experiment][ablate]") {
  ProgressBar::set_enabled(false);
  const fs::path d = fresh("detlab_test_ablate_shards");
  AblationSpec spec = nms_spec(d);
  spec.seeds = {0, 1};
  AblateOptions o;
  o.out_dir = d / "sharded";
  o.threads = 2;
  o.shard_count = 2;
  o.shard_index = 1;
  const AblationRunResult s1 = run_ablation(spec, o);
  REQUIRE(s1.points.size() == 3);  // seed 1's model group (the groups are seed 0, seed 1)
  CollectOptions co;
  co.plots = false;
  const AblationCollectResult partial = collect_ablation(o.out_dir, co);
  REQUIRE(partial.finished == 3);
  REQUIRE(partial.missing.size() == 3);
  REQUIRE(partial.missing[0].find("not run yet") != std::string::npos);
  o.shard_index = 0;
  REQUIRE(run_ablation(spec, o).points.size() == 3);
  const AblationCollectResult merged = collect_ablation(o.out_dir, co);
  REQUIRE(merged.missing.empty());
  REQUIRE(nlohmann::json::parse(read_file(o.out_dir / "manifest.json"))["shards"].size() == 2);

  AblateOptions whole = o;
  whole.out_dir = d / "whole";
  whole.shard_count = 1;
  whole.shard_index = 0;
  run_ablation(spec, whole);
  const AblationCollectResult one = collect_ablation(whole.out_dir, co);
  // Same metrics (timing columns differ run to run): compare AP, AP50, AP75, AR100, VOC07 cells.
  for (size_t r = 0; r < one.table.rows.size(); ++r)
    for (size_t col = 2; col < 7; ++col) {
      REQUIRE(one.table.rows[r][col].value == merged.table.rows[r][col].value);
      REQUIRE(one.table.rows[r][col].note == merged.table.rows[r][col].note);
    }
  REQUIRE_THROWS_AS(collect_ablation(d / "nothing", co), InputError);
}

TEST_CASE("ablate: a spec's paper column and claims reach the table, claims.md and results.json",
          "[experiment][ablate][claims]") {
  ProgressBar::set_enabled(false);
  const fs::path d = fresh("detlab_test_ablate_claims");
  write_file_atomic(d / "tiny.yaml", kTiny);
  write_file_atomic(d / "spec.yaml", "name: tiny_claims\n"
                                     "description: NMS threshold, tiny\n"
                                     "base: " + (d / "tiny.yaml").string() + "\n"
                                     "grid: {detector.postprocess.nms_iou: [0.3, 0.7]}\n"
                                     "seeds: [0, 1]\n"
                                     "eval_only: [detector.postprocess]\n"
                                     "paper: {source: \"Nobody et al., Table 0 (made up)\", values: {\"0.3\": 0.5}}\n"
                                     "claims:\n"
                                     "  - {claim: \"0.3 not far below 0.7\", better: \"0.3\", worse: \"0.7\",\n"
                                     "     at_least: true, margin: 1, source: \"Table 0\"}\n"
                                     "  - {claim: \"a typo\", better: \"0.3\", worse: \"0.8\"}\n");
  const AblationSpec spec = load_ablation_spec(d / "spec.yaml");
  REQUIRE(spec.claims.size() == 2);
  REQUIRE(spec.paper.values.at("0.3") == 0.5);
  AblateOptions o;
  o.out_dir = d / "out";
  o.threads = 2;
  REQUIRE(run_ablation(spec, o).failed == 0);
  CollectOptions co;
  co.plots = false;
  const AblationCollectResult c = collect_ablation(o.out_dir, co);
  REQUIRE(c.table.header.back() == "paper");
  CHECK(c.table.rows[0].back().value == 0.5);
  CHECK(c.table.rows[1].back().text == "\xE2\x80\x93");  // no published number for 0.7
  CHECK(c.table.caption.find("Nobody et al.") != std::string::npos);
  REQUIRE(c.claims.size() == 2);
  CHECK(c.claims[0].n == 2);
  CHECK(c.claims[0].verdict == Verdict::kHolds);  // a margin of 1 AP cannot be missed
  CHECK(c.claims[1].problem == "no row '0.8'");
  const std::string md = read_file(o.out_dir / "claims.md");
  CHECK(md.find("| 0.3 not far below 0.7 | Table 0 | AP |") != std::string::npos);
  CHECK(md.find("| holds |") != std::string::npos);
  const auto results = nlohmann::json::parse(read_file(o.out_dir / "results.json"));
  CHECK(results["claims"][0]["verdict"] == "holds");
  CHECK(results["rows"][0]["paper"] == 0.5);
  CHECK(results["rows"][1]["paper"].is_null());
  // A misspelled key under claims is refused when the spec is read, naming it.
  write_file_atomic(d / "bad.yaml", "base: " + (d / "tiny.yaml").string() + "\nclaims: [{claim: x, better: a, worse: b, metirc: AP}]\n");
  CHECK_THROWS_WITH(load_ablation_spec(d / "bad.yaml"), Catch::Contains("metirc"));
}

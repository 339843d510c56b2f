// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ablation grids: --grid parsing, cartesian product x seeds, shared model groups, deterministic shards.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiment/ablate_spec.h"
#include "support/cli_runner.h"

using namespace detlab;
namespace fs = std::filesystem;

TEST_CASE("grid option (--grid) splits at top-level commas only", "[experiment][ablate_spec]") {
  GridAxis a = parse_grid_arg("detector.postprocess.nms_iou=0.3,0.5,0.7");
  REQUIRE(a.key == "detector.postprocess.nms_iou");
  REQUIRE(a.values == std::vector<std::string>{"0.3", "0.5", "0.7"});
  a = parse_grid_arg("detector.proposals.window=[48,48],[64, 32],{a: 1, b: 2},'x,y'");
  REQUIRE(a.values == std::vector<std::string>{"[48,48]", "[64, 32]", "{a: 1, b: 2}", "'x,y'"});
  a = parse_grid_arg("detector.proposals=@experiments/stages/rpn.yaml,@experiments/stages/selective_search.yaml");
  REQUIRE(a.labels() == std::vector<std::string>{"rpn", "selective_search"});
  REQUIRE_THROWS_AS(parse_grid_arg("nms_iou"), InputError);
  REQUIRE_THROWS_AS(parse_grid_arg("a=1,,2"), InputError);
  REQUIRE_THROWS_AS(parse_grid_arg("=1"), InputError);
}

TEST_CASE("grid points: cartesian product x seeds, unique folders, model groups", "[experiment][ablate_spec]") {
  AblationSpec s;
  s.name = "g";
  s.seeds = {0, 1, 2};
  s.eval_only = {"detector.postprocess"};
  add_axis(s, parse_grid_arg("detector.postprocess.nms_iou=0.3,0.5"));
  add_axis(s, parse_grid_arg("detector.classifier.C=0.1,1,10"));
  REQUIRE(s.axes[0].column == "nms_iou");
  const auto points = grid_points(s);
  REQUIRE(points.size() == 2 * 3 * 3);
  // First axis slowest, seeds fastest.
  REQUIRE(points[0].values == std::vector<std::string>{"0.3", "0.1"});
  REQUIRE(points[1].seed == 1);
  REQUIRE(points[3].values == std::vector<std::string>{"0.3", "1"});
  REQUIRE(points[9].values[0] == "0.5");
  REQUIRE(points[0].overrides() ==
          std::vector<std::string>{"detector.postprocess.nms_iou=0.3", "detector.classifier.C=0.1"});
  std::set<std::string> slugs, groups;
  for (const auto& p : points) slugs.insert(p.slug), groups.insert(p.model_group);
  REQUIRE(slugs.size() == points.size());
  REQUIRE(groups.size() == 3 * 3);  // nms_iou is eval-only: C x seed decide the model
  REQUIRE(points[0].model_group == points[9].model_group);  // same C and seed, other nms_iou
  REQUIRE(points[0].model_group != points[1].model_group);
  REQUIRE(points[0].setting == "nms_iou=0_3_c=0_1");

  // Replacing an axis keeps its position; two axes ending alike get full-key columns.
  add_axis(s, parse_grid_arg("detector.classifier.C=5"));
  REQUIRE(grid_points(s).size() == 2 * 1 * 3);
  add_axis(s, parse_grid_arg("detector.features.C=1,2"));
  REQUIRE(s.axes[1].column == "detector.classifier.C");
  REQUIRE(s.axes[2].column == "detector.features.C");

  AblationSpec none;
  REQUIRE(grid_points(none).size() == 1);
  REQUIRE(grid_points(none)[0].setting == "base");
}

TEST_CASE("shards partition the grid by model group, deterministically", "[experiment][ablate_spec]") {
  AblationSpec s;
  s.seeds = {0, 1, 2};
  s.eval_only = {"detector.postprocess.nms_iou"};
  add_axis(s, parse_grid_arg("detector.postprocess.nms_iou=0.3,0.4,0.5,0.6"));
  add_axis(s, parse_grid_arg("detector.classifier.C=1,2"));
  const auto points = grid_points(s);
  for (int n : {1, 2, 3, 5, 40}) {
    std::set<int> seen;
    for (int i = 0; i < n; ++i) {
      const auto part = shard_points(points, i, n);
      REQUIRE(shard_points(points, i, n).size() == part.size());
      std::set<std::string> mine;
      for (const auto& p : part) {
        REQUIRE(seen.insert(p.index).second);  // no point in two shards
        mine.insert(p.model_group);
      }
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        for (const auto& p : shard_points(points, j, n)) REQUIRE(!mine.count(p.model_group));
      }
    }
    REQUIRE(seen.size() == points.size());
  }
  REQUIRE(parse_shard("2/4") == std::pair<int, int>{2, 4});
  for (const char* bad : {"4/4", "-1/3", "1", "1/0", "a/b", "1/2x"}) REQUIRE_THROWS_AS(parse_shard(bad), InputError);
}

TEST_CASE("ablation spec files and plain configs", "[experiment][ablate_spec]") {
  const fs::path dir = fs::temp_directory_path() / ("detlab_test_ablate_spec_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file_atomic(dir / "nms.yaml", R"(
name: nms_iou
description: NMS IoU threshold
base: experiments/bccd/hog_svm.yaml
set: ["eval.max_images=10"]
grid:
  detector.postprocess.nms_iou: [0.3, 0.5]
  detector.proposals: ["@experiments/stages/sliding_window.yaml", {type: selective_search, mode: fast}]
seeds: 3
eval_only: [detector.postprocess]
)");
  const AblationSpec s = load_ablation_spec(dir / "nms.yaml");
  REQUIRE(s.name == "nms_iou");
  REQUIRE(s.base == "experiments/bccd/hog_svm.yaml");
  REQUIRE(s.seeds == std::vector<uint64_t>{0, 1, 2});
  REQUIRE(s.axes.size() == 2);
  REQUIRE(s.axes[1].values[0] == "@experiments/stages/sliding_window.yaml");
  REQUIRE(s.axes[1].values[1].find("selective_search") != std::string::npos);
  REQUIRE(s.set == std::vector<std::string>{"eval.max_images=10"});

  write_file_atomic(dir / "plain.yaml", "name: x\ndataset: {type: synthetic}\ndetector: {type: staged}\n");
  const AblationSpec p = load_ablation_spec(dir / "plain.yaml");
  REQUIRE(p.base == dir / "plain.yaml");
  REQUIRE(p.name == "plain_ablation");
  REQUIRE(p.axes.empty());

  write_file_atomic(dir / "typo.yaml", "base: a.yaml\ngrids: {a: [1]}\n");
  REQUIRE_THROWS_WITH(load_ablation_spec(dir / "typo.yaml"), Catch::Contains("grids"));
  write_file_atomic(dir / "empty.yaml", "base: a.yaml\ngrid: {a: []}\n");
  REQUIRE_THROWS_WITH(load_ablation_spec(dir / "empty.yaml"), Catch::Contains("grid.a"));
}

TEST_CASE("ablation rows: named settings of several keys, crossed with the grid, and the quick preset", "[experiment][ablate]") {
  testing::TempDir tmp("detlab_test_ablate_rows");
  const fs::path& dir = tmp.path;
  write_file_atomic(dir / "rows.yaml", R"(
name: table
base: experiments/bccd/rcnn.yaml
rows:
  - {label: "fc7", set: ["detector.features.fine_tune=false"]}
  - {label: "FT fc7 BB", set: ["detector.features.fine_tune=true", "detector.postprocess.nms_iou=0.5"]}
grid:
  detector.postprocess.score_thresh: [0.1, 0.2]
seeds: 2
eval_only: [detector.postprocess]
quick: {set: ["detector.train.iterations=2"], values: 1}
)");
  const AblationSpec s = load_ablation_spec(dir / "rows.yaml");
  REQUIRE(s.axes.size() == 2);
  REQUIRE(s.axes[0].is_rows());
  REQUIRE(s.axes[0].labels() == std::vector<std::string>{"fc7", "FT fc7 BB"});
  const std::vector<GridPoint> points = grid_points(s);
  REQUIRE(points.size() == 8);  // 2 rows x 2 thresholds x 2 seeds
  // A row expands to its overrides, then the grid axis follows.
  CHECK(points[4].overrides() == std::vector<std::string>{"detector.features.fine_tune=true",
                                                          "detector.postprocess.nms_iou=0.5",
                                                          "detector.postprocess.score_thresh=0.1"});
  CHECK(points[4].setting == "row=ft_fc7_bb_score_thresh=0_1");
  // Eval-only keys inside a row do not split its model group; the rows' other keys do.
  CHECK(points[4].model_group == points[6].model_group);
  CHECK(points[0].model_group != points[4].model_group);
  CHECK(points[0].model_group == points[2].model_group);

  const AblationSpec q = load_ablation_spec(dir / "rows.yaml", true);
  CHECK(q.name == "table_quick");
  CHECK(q.quick);
  CHECK(q.seeds == std::vector<uint64_t>{0});
  CHECK(q.set.empty());
  const std::vector<GridPoint> qp = grid_points(q);
  REQUIRE(qp.size() == 1);
  // The preset's set comes after the row's own values, so it shortens a row's schedule too.
  CHECK(qp[0].all_overrides({"x=1"}) == std::vector<std::string>{"detector.features.fine_tune=false",
                                                                  "detector.postprocess.score_thresh=0.1",
                                                                  "detector.train.iterations=2", "x=1"});

  // A row with its own base: another family in the same table, in its own model group and folder.
  write_file_atomic(dir / "families.yaml", R"(
base: experiments/bccd/yolo.yaml
rows:
  - {label: YOLO, set: []}
  - {label: Fast R-CNN, base: experiments/bccd/fast_rcnn.yaml, set: []}
)");
  const AblationSpec f = load_ablation_spec(dir / "families.yaml");
  const std::vector<GridPoint> fp = grid_points(f);
  REQUIRE(fp.size() == 2);
  CHECK(fp[0].base() == "experiments/bccd/yolo.yaml");
  CHECK(fp[1].base() == "experiments/bccd/fast_rcnn.yaml");
  CHECK(fp[0].model_group != fp[1].model_group);
  write_file_atomic(dir / "nobase.yaml", "base: a.yaml\nrows: [{label: a, base: no/such.yaml, set: []}]\n");
  CHECK_THROWS_WITH(load_ablation_spec(dir / "nobase.yaml"), Catch::Contains("rows[0].base"));

  write_file_atomic(dir / "dup.yaml", "base: a.yaml\nrows: [{label: a, set: [x=1]}, {label: a, set: [x=2]}]\n");
  CHECK_THROWS_WITH(load_ablation_spec(dir / "dup.yaml"), Catch::Contains("rows[1].label"));
  write_file_atomic(dir / "noeq.yaml", "base: a.yaml\nrows: [{label: a, set: [x]}]\n");
  CHECK_THROWS_WITH(load_ablation_spec(dir / "noeq.yaml"), Catch::Contains("key=value"));
  write_file_atomic(dir / "badquick.yaml", "base: a.yaml\ngrid: {a: [1]}\nquick: {sets: []}\n");
  CHECK_THROWS_WITH(load_ablation_spec(dir / "badquick.yaml"), Catch::Contains("quick.sets"));
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_compare end to end on tiny synthetic HOG+SVM entries: tables, summary, manifest, samples, a failing entry
// that does not stop the others, and a rerun that reuses every finished entry.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/progress.h"
#include "experiment/compare.h"
#include "support/tiny_configs.h"
#include "experiment/compare_tables.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

const char* const kTiny = testing::kTinyHogSvm;  // the spec below replaces its data set and eval

fs::path setup() {
  const fs::path d = fs::temp_directory_path() / ("detlab_test_compare_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  write_file_atomic(d / "tiny.yaml", kTiny);
  const std::string spec = R"(
name: tiny_compare
dataset: {type: synthetic, num_images: 24, width: 128, height: 128, min_size: 28, max_size: 56, max_aspect: 1.2,
          classes: [ellipse, cross], seed: 2}
eval: {protocols: [coco, voc07, voc12]}
entries:
  - {label: "HOG+SVM", config: )" + (d / "tiny.yaml").string() + R"(}
  - {label: "HOG+SVM C=4", config: )" + (d / "tiny.yaml").string() + R"(, set: ["detector.classifier.C=4"]}
  - {label: "Missing", config: )" + (d / "missing.yaml").string() + R"(}
proposals:
  - {label: "sliding windows", config: )" + (d / "tiny.yaml").string() + R"(}
plots: {images: 2}
)";
  write_file_atomic(d / "spec.yaml", spec);
  return d;
}

nlohmann::json read_json(const fs::path& f) { return nlohmann::json::parse(read_file(f)); }

}  // namespace

TEST_CASE("compare: every entry runs, a failing one is recorded, a rerun reuses everything", "[experiment][compare]") {
  ProgressBar::set_enabled(false);
  const fs::path d = setup();
  const CompareSpec spec = load_compare_spec(d / "spec.yaml", false);
  CompareOptions opts;
  opts.out_dir = d / "out";
  opts.threads = 2;
  opts.plots = false;
  opts.command_line = "detlab compare spec.yaml";
  const CompareResult r = run_compare(spec, opts);
  REQUIRE(r.entries.size() == 3);
  REQUIRE(r.entries[0].ok());
  REQUIRE(r.entries[1].ok());
  REQUIRE_FALSE(r.entries[2].ok());
  REQUIRE(r.entries[2].input_error);
  REQUIRE(r.exit_code() == 2);
  REQUIRE(r.class_names == std::vector<std::string>{"ellipse", "cross"});
  REQUIRE(r.entries[0].runs[0].trained);

  for (const char* f : {"table.md", "table.csv", "table.tex", "per_class.md", "per_class.csv", "per_class.tex",
                        "timing.md", "timing.csv", "timing.tex", "summary.json", "manifest.json",
                        "samples/ground_truth.json", "samples/detections.json", "proposals/sliding_windows.json",
                        "entries/hog_svm/seed_0/run.json", "entries/hog_svm_c_4/seed_0/detections.json",
                        "entries/hog_svm/seed_0/pr/ellipse.csv"})
    REQUIRE(fs::exists(opts.out_dir / f));

  const std::string md = read_file(opts.out_dir / "table.md");
  REQUIRE(md.find("| Detector | AP | AP50 | AP75 | APs | APm | APl | AR100 | VOC07 mAP | AP50 ellipse | AP50 cross | "
                  "train s | ms/img | p90 ms | params | status |") != std::string::npos);
  REQUIRE(md.find("| HOG+SVM C=4 |") != std::string::npos);
  REQUIRE(md.find("| Missing |") != std::string::npos);
  REQUIRE(md.find("failed: seed 0: ") != std::string::npos);
  REQUIRE(md.find("missing.yaml: config not found") != std::string::npos);
  // The table's AP is the run's metrics.json AP.
  const auto metrics = read_json(opts.out_dir / "entries/hog_svm/seed_0/metrics.json");
  const double ap = metrics["coco"]["AP"];
  REQUIRE(md.find("| HOG+SVM | " + format_fixed(ap, 3) + " |") != std::string::npos);
  REQUIRE(read_file(opts.out_dir / "timing.md").find("| HOG+SVM | proposals |") != std::string::npos);
  REQUIRE(read_file(opts.out_dir / "per_class.csv").rfind("Detector,ellipse AP,ellipse AP50,ellipse VOC07,", 0) == 0);

  const auto summary = read_json(opts.out_dir / "summary.json");
  REQUIRE(summary["entries"].size() == 3);
  REQUIRE(summary["entries"][0]["metrics"]["AP"].get<double>() == ap);
  REQUIRE(summary["entries"][2]["status"] == "failed");
  REQUIRE(summary["entries"][1]["runs"][0]["dir"] == "entries/hog_svm_c_4/seed_0");

  const auto m = read_json(opts.out_dir / "manifest.json");
  REQUIRE(m["kind"] == "compare");
  REQUIRE(m["command_line"] == "detlab compare spec.yaml");
  REQUIRE(m["environment"]["libraries"].contains("OpenCV"));
  REQUIRE(m["environment"]["libraries"].contains("LibTorch"));
  REQUIRE(m["environment"]["libraries"].contains("dlib"));
  REQUIRE(m["environment"]["git_commit"].get<std::string>().size() >= 7);  // a hash, or "unknown"
  REQUIRE(m["seeds"] == nlohmann::json::array({0}));
  REQUIRE(m["entries"][1]["resolved_config"].get<std::string>().find("C: 4") != std::string::npos);
  REQUIRE(m["entries"][1]["config_hash"].get<std::string>().size() == 16);
  REQUIRE(m["entries"][0]["runs"][0]["train_key"].get<std::string>().size() == 16);
  REQUIRE(m["spec"].get<std::string>().find("tiny_compare") != std::string::npos);

  const auto gt = read_json(opts.out_dir / "samples/ground_truth.json");
  REQUIRE(gt["images"].size() == 2);
  REQUIRE(fs::exists(opts.out_dir / "samples" / gt["images"][0]["file"].get<std::string>()));
  // The sample images' detections of each finished entry, and only those.
  const auto sample_dets = read_json(opts.out_dir / "samples/detections.json");
  REQUIRE(sample_dets.size() == 2);
  std::set<int64_t> ids = {gt["images"][0]["id"].get<int64_t>(), gt["images"][1]["id"].get<int64_t>()};
  REQUIRE(sample_dets["HOG+SVM"].size() > 0);
  for (const auto& d : sample_dets["HOG+SVM"]) REQUIRE(ids.count(d["image_id"].get<int64_t>()));

  // Rerun: nothing is trained or evaluated again.
  const CompareResult again = run_compare(spec, opts);
  for (int i = 0; i < 2; ++i) {
    REQUIRE_FALSE(again.entries[i].runs[0].trained);
    REQUIRE_FALSE(again.entries[i].runs[0].evaluated);
  }
  REQUIRE(format_compare_table(again) == format_compare_table(r));
}

TEST_CASE("compare with several seeds: mean and ± std in the table", "[experiment][compare]") {
  ProgressBar::set_enabled(false);
  const fs::path d = setup();
  CompareSpec spec = load_compare_spec(d / "spec.yaml", false);
  spec.entries.resize(1);
  spec.proposals.clear();
  spec.seeds = {0, 1};
  CompareOptions opts;
  opts.out_dir = d / "seeds";
  opts.threads = 2;
  opts.plots = false;
  const CompareResult r = run_compare(spec, opts);
  REQUIRE(r.exit_code() == 0);
  REQUIRE(r.entries[0].runs.size() == 2);
  const std::string md = read_file(opts.out_dir / "table.md");
  REQUIRE(md.find("Mean over 2 seeds") != std::string::npos);
  REQUIRE(md.find(" \xC2\xB1 ") != std::string::npos);
  REQUIRE(fs::exists(opts.out_dir / "entries/hog_svm/seed_1/run.json"));
  const double a0 = r.entries[0].runs[0].metrics.coco_stat("AP"), a1 = r.entries[0].runs[1].metrics.coco_stat("AP");
  REQUIRE(md.find("| HOG+SVM | " + format_fixed((a0 + a1) / 2, 3)) != std::string::npos);
}

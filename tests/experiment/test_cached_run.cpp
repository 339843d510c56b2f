// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_cached: train once, reuse the model and the evaluation on the same keys, retrain when the config changes,
// share a model across eval-only changes, never leave a reusable half-model.
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/formats.h"
#include "data/synthetic.h"
#include "experiment/cached_run.h"
#include "support/tiny_configs.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

using namespace detlab;
namespace fs = std::filesystem;

namespace {
using testing::kTinyHogSvm;
const char* const kTiny = kTinyHogSvm;

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("run keys: the seed and training keys change the train key, eval-only keys only the eval key",
          "[experiment][cached_run]") {
  const RunConfig a = parse_run_config(kTiny);
  const RunKeys k = run_keys(a, 0, {"detector.postprocess"});
  REQUIRE(k.train.size() == 16);
  REQUIRE(run_keys(a, 0, {"detector.postprocess"}).train == k.train);  // stable
  REQUIRE(run_keys(a, 1, {"detector.postprocess"}).train != k.train);
  const RunConfig nms = parse_run_config(kTiny, {"detector.postprocess.nms_iou=0.6"});
  REQUIRE(run_keys(nms, 0, {"detector.postprocess"}).train == k.train);
  REQUIRE(run_keys(nms, 0, {"detector.postprocess"}).eval != k.eval);
  REQUIRE(run_keys(nms, 0).train != run_keys(a, 0).train);  // without eval-only keys everything counts
  const RunConfig c = parse_run_config(kTiny, {"detector.classifier.C=2"});
  REQUIRE(run_keys(c, 0, {"detector.postprocess"}).train != k.train);
  const RunConfig data = parse_run_config(kTiny, {"dataset.seed=3"});
  REQUIRE(run_keys(data, 0).train != run_keys(a, 0).train);
  REQUIRE(run_keys(a, 0, {}, "val").eval != run_keys(a, 0).eval);
  // Results depend on the library thread count and the device: both are part of the keys.
  REQUIRE(run_keys(a, 0, {}, "test", 1).train != run_keys(a, 0, {}, "test", 2).train);
  REQUIRE(run_keys(a, 0, {}, "test", 2, "cpu").eval != run_keys(a, 0, {}, "test", 2, "cuda").eval);
}

TEST_CASE("run_cached trains once, then reuses, a changed config retrains, eval-only changes share the model",
          "[experiment][cached_run]") {
  const fs::path root = fresh_dir("detlab_test_cached_run");
  const RunConfig rc = parse_run_config(kTiny);
  CachedRunOptions o;
  o.dir = root / "run";
  o.threads = 2;
  o.eval_only = {"detector.postprocess"};
  const RunOutcome first = run_cached(rc, o);
  REQUIRE(first.trained);
  REQUIRE(first.evaluated);
  REQUIRE(first.metrics.coco);
  REQUIRE(first.classes.size() == 2);
  REQUIRE(first.num_parameters > 0);
  for (const char* f : {"run.json", "metrics.json", "detections.json", "model_key.json", "detector.json",
                        "class_ap.md", "class_ap.csv", "pr/ellipse.csv", "pr/cross.csv", "manifest.json"})
    REQUIRE(fs::exists(o.dir / f));
  REQUIRE(run_is_cached(o.dir, first.keys));
  // The entry's own manifest: keys, threads, commits, machine, for the training and the evaluation.
  const nlohmann::json m = nlohmann::json::parse(read_file(o.dir / "manifest.json"));
  REQUIRE(m.at("train").at("key") == first.keys.train);
  REQUIRE(m.at("eval").at("key") == first.keys.eval);
  REQUIRE(m.at("train").at("threads") == 2);
  for (const char* k : {"finished", "seconds", "commit", "dirty", "build", "machine", "libraries", "device", "code"})
    REQUIRE(m.at("eval").contains(k));

  const RunOutcome again = run_cached(rc, o);
  REQUIRE_FALSE(again.trained);
  REQUIRE_FALSE(again.evaluated);
  REQUIRE(again.metrics.coco_stat("AP") == first.metrics.coco_stat("AP"));
  REQUIRE(again.classes[1].ap50 == first.classes[1].ap50);
  REQUIRE(again.train_seconds == first.train_seconds);
  REQUIRE(again.stage_ms.size() == first.stage_ms.size());
  REQUIRE(again.stage_ms.front().first == "proposals");  // pipeline order survives the round trip

  // Another NMS threshold in another run folder, same model folder: evaluated, not trained.
  CachedRunOptions shared = o;
  shared.dir = root / "run_nms";
  shared.model_dir = o.dir;
  const RunOutcome nms = run_cached(parse_run_config(kTiny, {"detector.postprocess.nms_iou=0.7"}), shared);
  REQUIRE_FALSE(nms.trained);
  REQUIRE(nms.evaluated);
  REQUIRE(nms.model_dir == o.dir);
  REQUIRE(read_run_outcome(shared.dir).model_dir == o.dir);

  // A training key change retrains in place; --retrain retrains even when nothing changed.
  const RunOutcome c2 = run_cached(parse_run_config(kTiny, {"detector.classifier.C=2"}), o);
  REQUIRE(c2.trained);
  CachedRunOptions force = o;
  force.retrain = true;
  REQUIRE(run_cached(parse_run_config(kTiny, {"detector.classifier.C=2"}), force).trained);
}

TEST_CASE("run_cached: an unfinished model folder is retrained, foreign folders are not emptied",
          "[experiment][cached_run]") {
  const fs::path root = fresh_dir("detlab_test_cached_run_fail");
  CachedRunOptions o;
  o.dir = root / "run";
  o.threads = 2;
  const RunConfig rc = parse_run_config(kTiny, {"dataset.num_images=18"});
  REQUIRE(run_cached(rc, o).trained);
  // A training killed after Detector::save but before model_key.json: the model is not reused.
  fs::remove(o.dir / "model_key.json");
  REQUIRE_FALSE(run_is_cached(o.dir, run_keys(rc, 0)));
  REQUIRE(run_cached(rc, o).trained);
  // A model folder of another config (another key) is retrained too.
  write_file_atomic(o.dir / "model_key.json", "{\"format_version\": 1, \"train_key\": \"0000000000000000\"}\n");
  REQUIRE(run_cached(rc, o).trained);
  REQUIRE_FALSE(run_cached(rc, o).trained);
  // A training killed mid-way (SIGKILL, Ctrl-C) leaves only the engine's first files: retrained, not refused.
  for (const auto& e : fs::directory_iterator(o.dir)) fs::remove_all(e.path());
  write_file_atomic(o.dir / "train_log.csv", "iteration,epoch,total_loss,lr,elapsed_s\n");
  REQUIRE(run_cached(rc, o).trained);

  const fs::path foreign = root / "my_thesis";
  fs::create_directories(foreign);
  write_file_atomic(foreign / "chapter1.tex", "precious\n");
  CachedRunOptions bad = o;
  bad.dir = foreign;
  REQUIRE_THROWS_WITH(run_cached(rc, bad), Catch::Contains("refusing to overwrite"));
  REQUIRE(fs::exists(foreign / "chapter1.tex"));
  REQUIRE_THROWS_AS(read_run_outcome(root / "nothing"), InputError);
}

TEST_CASE("run_cached: a stale model says what changed and is retrained, reuse_stale keeps it and says so",
          "[experiment][cached_run]") {
  const fs::path root = fresh_dir("detlab_test_cached_run_stale");
  CachedRunOptions o;
  o.dir = root / "run";
  o.threads = 2;
  const RunConfig rc = parse_run_config(kTiny, {"dataset.num_images=18"});
  const RunOutcome first = run_cached(rc, o);
  REQUIRE(first.trained);
  REQUIRE(first.retrained_because.empty());  // there was no model before
  REQUIRE(describe_outcome(first) == "trained, evaluated");

  // Pretend the model was made by other code: one of its files had another content.
  auto tamper = [&] {
    nlohmann::json k = nlohmann::json::parse(read_file(o.dir / "model_key.json"));
    k["inputs"]["code"]["files"]["features/hog.cpp"] = "0000000000000000";
    k["inputs"]["code"]["hash"] = "0000000000000000";
    k["train_key"] = "0000000000000000";
    write_file_atomic(o.dir / "model_key.json", k.dump(2));
  };
  tamper();
  CachedRunOptions stale = o;
  stale.reuse_stale = true;
  const RunOutcome kept = run_cached(rc, stale);
  REQUIRE_FALSE(kept.trained);
  REQUIRE(kept.stale == std::vector<std::string>{"code: features/hog.cpp (changed)"});
  REQUIRE(describe_outcome(kept).find("reused on purpose although stale (code: features/hog.cpp (changed))") !=
          std::string::npos);
  REQUIRE(read_run_outcome(o.dir).stale == kept.stale);  // the mark survives in run.json for the tables

  const RunOutcome redone = run_cached(rc, o);
  REQUIRE(redone.trained);
  REQUIRE(redone.retrained_because == std::vector<std::string>{"code: features/hog.cpp (changed)"});
  REQUIRE(redone.stale.empty());
  REQUIRE(describe_outcome(redone) == "retrained (code: features/hog.cpp (changed)), evaluated");

  // Another thread count: retrained, and the reason says so. The same config and seed as a stale reuse.
  CachedRunOptions one = o;
  one.threads = 1;
  const RunOutcome t1 = run_cached(rc, one);
  REQUIRE(t1.trained);
  REQUIRE(t1.retrained_because == std::vector<std::string>{"threads 2 -> 1"});

  // A model folder of an older detlab format is stale, not an error.
  write_file_atomic(o.dir / "model_key.json", "{\"format_version\": 1, \"train_key\": \"0000000000000000\"}\n");
  const RunOutcome old = run_cached(rc, o);
  REQUIRE(old.trained);
  REQUIRE(old.retrained_because == std::vector<std::string>{"made by an older detlab (format 1)"});
}

TEST_CASE("run_cached: a changed data file makes the entry stale", "[experiment][cached_run]") {
  const fs::path root = fresh_dir("detlab_test_cached_run_data");
  write_voc(make_synthetic(parse_synthetic(parse_run_config(kTiny).root.child("dataset"))), root / "data");
  const std::string yaml = std::string(kTiny).replace(std::string(kTiny).find("dataset: {type: synthetic"),
                                                      std::string(kTiny).find("detector:") -
                                                          std::string(kTiny).find("dataset: {type: synthetic"),
                                                      "dataset: {path: " + (root / "data").string() + ", format: voc}\n");
  CachedRunOptions o;
  o.dir = root / "run";
  o.threads = 2;
  REQUIRE(run_cached(parse_run_config(yaml), o).trained);
  REQUIRE_FALSE(run_cached(parse_run_config(yaml), o).trained);
  // One pixel of one image file changes: same config, same annotations, other data.
  const fs::path image = root / "data" / "JPEGImages" / (fs::directory_iterator(root / "data" / "JPEGImages")->path().filename());
  cv::Mat pixels = cv::imread(image.string(), cv::IMREAD_COLOR);
  pixels.at<cv::Vec3b>(3, 3)[0] ^= 1;
  REQUIRE(cv::imwrite(image.string(), pixels));
  const RunOutcome redone = run_cached(parse_run_config(yaml), o);
  REQUIRE(redone.trained);
  REQUIRE(redone.retrained_because == std::vector<std::string>{"data"});
}

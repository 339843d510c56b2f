// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Run inputs and code identity: which source files a family's key covers, what a stale entry reports.
#include <catch2/catch.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "experiment/code_identity.h"
#include "experiment/provenance.h"

using namespace detlab;

namespace {

size_t count_under(const CodeIdentity& id, const std::string& folder) {
  return static_cast<size_t>(std::count_if(id.files.begin(), id.files.end(),
                                           [&](const auto& kv) { return kv.first.rfind(folder, 0) == 0; }));
}

RunInputs inputs_of(const std::string& config, int threads = 2) {
  const RunConfig rc = load_run_config(config);
  return train_inputs(rc, "data", 0, threads, "cpu", {});
}

}  // namespace

TEST_CASE("the build fingerprint lists every source file with its includes", "[experiment][provenance]") {
  const BuildFingerprint& f = build_fingerprint();
  REQUIRE(f.files.size() > 300);
  const auto it = std::find_if(f.files.begin(), f.files.end(),
                               [](const SourceFile& s) { return std::string(s.path) == "experiment/code_identity.cpp"; });
  REQUIRE(it != f.files.end());
  CHECK(std::string(it->hash).size() == 16);
  CHECK(std::string(it->includes).find("experiment/code_identity.h") != std::string::npos);
}

TEST_CASE("code identity: a family's key covers its own components, not another family's",
          "[experiment][provenance]") {
  const RunInputs hog = inputs_of("experiments/bccd/hog_svm.yaml");
  const RunInputs dlib = inputs_of("experiments/bccd/dlib_fhog.yaml");
  const RunInputs rcnn = inputs_of("experiments/bccd/rcnn.yaml");
  const RunInputs retina = inputs_of("experiments/bccd/retinanet.yaml");
  const RunInputs detr = inputs_of("experiments/bccd/detr.yaml");
  // Classical pipelines: no network code, so an edit under src/nn/ leaves them alone.
  CHECK(count_under(hog.code, "nn/") == 0);
  CHECK(count_under(dlib.code, "nn/") == 0);
  CHECK(hog.code.files.count("features/hog.cpp"));
  CHECK(hog.code.files.count("classifiers/linear_svm.cpp"));
  CHECK(hog.code.files.count("data/voc.cpp"));       // the data readers
  CHECK_FALSE(hog.code.files.count("eval/coco_eval.cpp"));  // scoring is the eval key's
  // Deep families reach their own networks and the training engine, and not each other's heads.
  CHECK(rcnn.code.files.count("detectors/rcnn_training.cpp"));
  const RunInputs fast = inputs_of("experiments/bccd/fast_rcnn.yaml");
  CHECK(fast.code.files.count("features/backbone.cpp"));  // `backbone: {type: small_resnet}`: the backbone stage
  CHECK(fast.code.files.count("nn/backbones/resnet.cpp"));
  CHECK(fast.code.files.count("features/roi_pool.cpp"));
  CHECK(rcnn.code.files.count("features/cnn_crop.cpp"));
  CHECK(rcnn.code.files.count("nn/backbones/resnet.cpp"));
  CHECK(retina.code.files.count("train/engine.cpp"));
  // A network detector's `backbone:` node is its family's own: it reaches the backbone networks, not the backbone
  // stage and, through it, the R-CNN family's heads (an edit to nn/heads/roi_heads.cpp retrains no YOLO).
  for (const char* config : {"experiments/bccd/yolo.yaml", "experiments/bccd/ssd.yaml",
                             "experiments/bccd/retinanet.yaml", "experiments/bccd/detr.yaml"}) {
    const RunInputs net = inputs_of(config);
    INFO(config);
    CHECK(count_under(net.code, "nn/backbones/") > 0);
    CHECK_FALSE(net.code.files.count("features/backbone.cpp"));
    CHECK_FALSE(net.code.files.count("nn/heads/roi_heads.cpp"));
    CHECK_FALSE(net.code.files.count("detectors/rcnn_training.cpp"));
  }
  CHECK(count_under(retina.code, "nn/detection/retinanet") > 0);
  CHECK(count_under(retina.code, "nn/detr/") == 0);
  CHECK(count_under(detr.code, "nn/detr/") > 0);
  CHECK(count_under(detr.code, "nn/detection/retinanet") == 0);
  CHECK(retina.code.hash != detr.code.hash);
  // The eval key adds the harness that detects and scores.
  const RunInputs hog_eval = eval_inputs(load_run_config("experiments/bccd/hog_svm.yaml"), hog, "test");
  CHECK(hog_eval.code.files.count("eval/coco_eval.cpp"));
  CHECK(hog_eval.code.files.count("experiment/run.cpp"));
  CHECK(count_under(hog_eval.code, "nn/") == 0);
}

TEST_CASE("run inputs: each part changes the key, and the change is named", "[experiment][provenance]") {
  const RunInputs a = inputs_of("experiments/bccd/hog_svm.yaml");
  CHECK(a.key() == inputs_of("experiments/bccd/hog_svm.yaml").key());  // stable
  RunInputs b = a;
  b.threads = 1;
  CHECK(b.key() != a.key());
  CHECK(describe_changes(a, b) == std::vector<std::string>{"threads 2 -> 1"});
  b = a;
  b.device = "cuda";
  CHECK(describe_changes(a, b) == std::vector<std::string>{"device cpu -> cuda"});
  b = a;
  b.data = "other";
  CHECK(describe_changes(a, b) == std::vector<std::string>{"data"});
  b = a;
  b.code.files["features/hog.cpp"] = "0000000000000000";
  b.code.files["features/new_stage.cpp"] = "1111111111111111";
  b.code.files.erase("classifiers/linear_svm.cpp");
  b.code.hash = "changed";
  CHECK(b.key() != a.key());
  CHECK(describe_changes(a, b) ==
        std::vector<std::string>{"code: features/hog.cpp (changed), features/new_stage.cpp (new), "
                                 "classifiers/linear_svm.cpp (gone)"});
  CHECK(same_config_and_seed(a, b));
  b.seed = 1;
  CHECK_FALSE(same_config_and_seed(a, b));
  CHECK(RunInputs::from_json(a.to_json()).key() == a.key());
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the config tree: typed reads, _base_ inheritance, --set overrides, unknown-key errors, checked reads.
#include <catch2/catch.hpp>

#include <limits>

#include <string>

#include "config/checked.h"
#include "config/config.h"
#include "core/error.h"

using namespace detlab;

namespace {
const std::string kData = std::string(DETLAB_REPO_ROOT) + "/tests/config/data/";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("typed reads of scalars and lists", "[config]") {
  const Config c = Config::parse("i: 3\nf: 0.25\nb: true\ns: text\nq: \"7\"\nl: [1, 2, 3]\nll: [[1, 2], [3.5]]\n");
  CHECK(c.get<int>("i") == 3);
  CHECK(c.get<float>("f") == 0.25f);
  CHECK(c.get<double>("i") == 3.0);
  CHECK(c.get<bool>("b"));
  CHECK(c.get<std::string>("s") == "text");
  CHECK(c.get<std::string>("q") == "7");
  CHECK(c.get<std::vector<int>>("l") == std::vector<int>{1, 2, 3});
  CHECK(c.get<std::vector<std::vector<float>>>("ll") == std::vector<std::vector<float>>{{1, 2}, {3.5f}});
  CHECK(c.get<int>("missing", 9) == 9);
  CHECK_NOTHROW(c.expect_consumed());
}

TEST_CASE("type errors and missing keys name the dotted path", "[config]") {
  const Config c = Config::parse("a: {b: {c: x}}\nn: [1, two]\n", "cfg.yaml");
  CHECK(error_of([&] { c.child("a").child("b").get<int>("c"); }) == "cfg.yaml: a.b.c: expected an integer, got 'x'");
  CHECK(error_of([&] { c.child("a").get<int>("zz"); }) == "cfg.yaml: a.zz: missing required key");
  CHECK(error_of([&] { c.get<std::vector<int>>("n"); }) == "cfg.yaml: n[1]: expected an integer, got 'two'");
  CHECK(error_of([&] { c.get<int>("a"); }) == "cfg.yaml: a: expected an integer, got a map");
  CHECK(error_of([] { Config::parse("a: [1, 2", "bad.yaml"); }).rfind("bad.yaml: YAML syntax error", 0) == 0);
}

TEST_CASE("unknown keys are errors with the full dotted path and a suggestion", "[config]") {
  const Config c = Config::parse("detector:\n  proposals: {type: x, max_proposalz: 5, stride: 4}\n", "exp.yaml");
  const Config p = c.child("detector").child("proposals");
  p.get<std::string>("type");
  p.get<int>("stride");
  p.get<int>("max_proposals", 2000);  // the parser asked for the correct spelling
  CHECK(error_of([&] { c.expect_consumed(); }) ==
        "exp.yaml: detector.proposals.max_proposalz (did you mean 'max_proposals'?): unknown key");
}

TEST_CASE("_base_ inheritance merges maps and replaces swapped components", "[config]") {
  const Config c = Config::load(kData + "child.yaml");
  CHECK(c.get<std::string>("name") == "child");
  CHECK(c.child("dataset").get<std::string>("path") == "datasets/bccd");  // inherited
  const Config det = c.child("detector");
  CHECK(det.child("postprocess").get<float>("nms_iou") == 0.5f);        // overridden
  CHECK(det.child("postprocess").get<float>("score_thresh") == 0.05f);  // merged from the base
  // A different `type` replaces the base's component: selective search options must not leak in.
  CHECK(det.child("proposals").get<std::string>("type") == "sliding_window");
  CHECK_FALSE(det.child("proposals").has("mode"));
  CHECK(error_of([&] { Config::load(kData + "cycle_a.yaml"); }).find("inheritance cycle") != std::string::npos);
  CHECK(error_of([&] { Config::load(kData + "nope.yaml"); }).find("config file not found") != std::string::npos);
  // An empty list of bases is no base (it crashed: a null merge).
  CHECK(Config::parse("_base_: []\nx: 1\n", "empty.yaml", kData).get<int>("x") == 1);
  // A base name the OS refuses (longer than NAME_MAX; found by the yaml_config fuzz target): not found, no
  // filesystem_error.
  CHECK(error_of([&] { Config::parse("_base_: " + std::string(5000, 'a') + ".yaml\n", "long.yaml", kData); })
            .find("config file not found") != std::string::npos);
}

TEST_CASE("overrides (--set) of every value kind", "[config]") {
  Config c = Config::load(kData + "base.yaml");
  c.apply_overrides({"detector.postprocess.nms_iou=0.6", "detector.proposals.max_proposals=500",
                     "eval.flag=false", "name=renamed", "eval.protocols=[coco, voc07]", "new.deep.key=3"});
  CHECK(c.child("detector").child("postprocess").get<float>("nms_iou") == 0.6f);
  CHECK(c.child("detector").child("proposals").get<int>("max_proposals") == 500);
  CHECK_FALSE(c.child("eval").get<bool>("flag"));
  CHECK(c.get<std::string>("name") == "renamed");
  CHECK(c.child("eval").get<std::vector<std::string>>("protocols") == std::vector<std::string>{"coco", "voc07"});
  CHECK(c.child("new").child("deep").get<int>("key") == 3);

  c.set("detector.proposals=@" + kData + "stage_rpn.yaml");  // whole-stage swap
  CHECK(c.child("detector").child("proposals").get<std::string>("type") == "rpn");
  CHECK_FALSE(c.child("detector").child("proposals").has("mode"));

  CHECK(error_of([&] { c.set("novalue"); }).find("expected key=value") != std::string::npos);
  CHECK(error_of([&] { c.set("name.sub=1"); }).find("is not a map") != std::string::npos);
}

TEST_CASE("list items can be overridden by index", "[config]") {
  Config c = Config::parse("sizes: [32, 64, 128]\n");
  c.set("sizes[1]=48");
  CHECK(c.get<std::vector<int>>("sizes") == std::vector<int>{32, 48, 128});
  CHECK(error_of([&] { c.set("sizes[5]=1"); }).find("index out of range") != std::string::npos);
}

TEST_CASE("dump and hash are stable and reflect overrides", "[config]") {
  Config a = Config::load(kData + "child.yaml");
  Config b = Config::load(kData + "child.yaml");
  CHECK(a.hash() == b.hash());
  CHECK(a.hash().size() == 16);
  b.set("detector.postprocess.nms_iou=0.55");
  CHECK(a.hash() != b.hash());
  const Config round = Config::parse(a.dump());
  CHECK(round.hash() == a.hash());
  Config copy = a.clone();
  copy.set("name=x");
  CHECK(a.get<std::string>("name") == "child");
}

// Checked reads (config/checked.h): what every parser uses for its one-line errors.

TEST_CASE("checked reads return the value or the fallback", "[config]") {
  const Config c = Config::parse("n: 3\nx: 0.5\nz: 0\nnorm: none\n", "exp.yaml");
  CHECK(get_positive(c, "n", 7) == 3);
  CHECK(get_positive(c, "absent", 7) == 7);
  CHECK(get_non_negative(c, "x", 1.0) == 0.5);
  CHECK(get_non_negative(c, "z", 1.0) == 0.0);
  CHECK(get_non_negative(c, "absent", 2.0) == 2.0);
  CHECK(get_choice(c, "norm", "batch_norm", {"batch_norm", "none"}) == "none");
  CHECK(get_choice(c, "absent", "batch_norm", {"batch_norm", "none"}) == "batch_norm");
}

TEST_CASE("checked reads refuse bad values with one line naming the file and the key", "[config]") {
  const Config c = Config::parse("head: {n: 0, m: -2, x: -0.1, y: .nan, norm: group_norm}\n", "exp.yaml");
  const Config h = c.child("head");
  CHECK(error_of([&] { get_positive(h, "n", 1); }) == "exp.yaml: head.n: must be positive, got 0");
  CHECK(error_of([&] { get_positive(h, "m", 1); }) == "exp.yaml: head.m: must be positive, got -2");
  CHECK(error_of([&] { get_non_negative(h, "x", 1); }) == "exp.yaml: head.x: must be >= 0, got -0.1");
  CHECK(error_of([&] { get_non_negative(h, "y", 1); }) == "exp.yaml: head.y: must be a finite number >= 0, got nan");
  CHECK(error_of([&] { get_choice(h, "norm", "none", {"batch_norm", "frozen_batch_norm", "none"}); }) ==
        "exp.yaml: head.norm: expected batch_norm, frozen_batch_norm or none, got 'group_norm'");
  CHECK(error_of([&] { get_choice(h, "norm", "none", {"none"}); }) ==
        "exp.yaml: head.norm: expected none, got 'group_norm'");
  CHECK(error_of([&] { config_error(h, "n", "too small"); }) == "exp.yaml: head.n: too small");
  // A fallback that is not one of the choices is a programming error, reported the same way.
  CHECK(error_of([&] { get_choice(h, "absent", "x", {"a", "b"}); }) ==
        "exp.yaml: head.absent: expected a or b, got 'x'");
}

TEST_CASE("get_at_least and get_real state the bound and the value, NaN and infinity are refused", "[config]") {
  const Config c = Config::parse("{k: 1, iou: 0.5, zero: 0, one: 1, big: .inf, small: -.inf, nan: .nan, q: 0.5}\n",
                                 "exp.yaml");
  CHECK(get_at_least(c, "k", 5, 1) == 1);
  CHECK(get_at_least(c, "absent", 5, 1) == 5);
  CHECK(error_of([&] { get_at_least(c, "k", 5, 2); }) == "exp.yaml: k: must be >= 2, got 1");
  const RealRange unit_open_closed{0.0, 1.0, true, false};
  CHECK(get_real(c, "iou", 0.3, unit_open_closed) == 0.5);
  CHECK(get_real(c, "one", 0.3, unit_open_closed) == 1.0);
  CHECK(get_real(c, "absent", 0.3, unit_open_closed) == 0.3);
  CHECK(error_of([&] { get_real(c, "zero", 0.3, unit_open_closed); }) == "exp.yaml: zero: must be in (0, 1], got 0");
  CHECK(error_of([&] { get_real(c, "q", 0.1, {0.0, 0.5, false, true}); }) ==
        "exp.yaml: q: must be in [0, 0.5), got 0.5");
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(error_of([&] { get_real(c, "zero", 1.0, {0.0, inf, true}); }) == "exp.yaml: zero: must be > 0, got 0");
  CHECK(error_of([&] { get_real(c, "big", 1.0, {0.0, inf}); }) ==
        "exp.yaml: big: must be a finite number >= 0, got inf");
  CHECK(error_of([&] { get_real(c, "small", 1.0, {-inf, 1.0}); }) ==
        "exp.yaml: small: must be a finite number <= 1, got -inf");
  CHECK(error_of([&] { get_real(c, "nan", 1.0, {-inf, inf}); }) == "exp.yaml: nan: must be a finite number, got nan");
}

TEST_CASE("get_named maps names to values and lists the names in its error", "[config]") {
  enum class Kind { kA, kB };
  const std::vector<std::pair<std::string, Kind>> kinds = {{"a", Kind::kA}, {"b", Kind::kB}};
  const Config c = Config::parse("k: b\nbad: c\n", "exp.yaml");
  CHECK(get_named(c, "k", Kind::kA, kinds) == Kind::kB);
  CHECK(get_named(c, "absent", Kind::kB, kinds) == Kind::kB);
  CHECK(error_of([&] { get_named(c, "bad", Kind::kA, kinds); }) == "exp.yaml: bad: expected a or b, got 'c'");
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files and the precomputed stage: round trip, truncation, fallback, bad files.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "proposals/precomputed.h"
#include "proposals/proposal_file.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("detlab_test_precomputed_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

/// Counts its calls and proposes one fixed box.
class CountingStage final : public ProposalStage {
 public:
  explicit CountingStage(std::atomic<int>& calls) : calls_(calls) {}
  Proposals propose(const ImageContext&) override {
    ++calls_;
    return {{{1, 2, 30, 40}, 0.9f}};
  }
  std::string_view name() const override { return "counting"; }
  int max_proposals() const override { return 1; }

 private:
  std::atomic<int>& calls_;
};

}  // namespace

TEST_CASE("proposal files round-trip to whole pixels", "[proposals][precomputed]") {
  ProposalFile f;
  f.source = "{type: selective_search, mode: fast}";
  f.images["a"] = {{0, 0, 10, 10}, {1.4f, 2.6f, 300.5f, 32767}};
  f.images["b"] = {};
  f.images["c"] = {{-3, -4, 5, 6}};
  const fs::path file = temp_file("round_trip.bin");
  write_proposal_file(file, f);
  REQUIRE(fs::file_size(file) == 8 + 4 + 4 + f.source.size() + 4 + 3 * (2 + 1 + 4) + 3 * 8);
  const ProposalFile g = read_proposal_file(file);
  REQUIRE(g.source == f.source);
  REQUIRE(g.images.size() == 3);
  REQUIRE(g.images.at("a")[1] == Box{1, 3, 301, 32767});  // lround: halves away from zero
  REQUIRE(g.images.at("b").empty());
  REQUIRE(g.images.at("c")[0] == Box{-3, -4, 5, 6});
}

TEST_CASE("bad proposal files give one line naming the file", "[proposals][precomputed]") {
  REQUIRE_THROWS_WITH(read_proposal_file(temp_file("missing.bin")), Catch::Contains("missing.bin"));
  write_file_atomic(temp_file("junk.bin"), std::string("not a proposal file at all"));
  REQUIRE_THROWS_WITH(read_proposal_file(temp_file("junk.bin")), Catch::Contains("bad magic"));
  ProposalFile f;
  f.images["a"] = {{0, 0, 10, 10}};
  write_proposal_file(temp_file("ok.bin"), f);
  std::string bytes = read_file(temp_file("ok.bin"));
  write_file_atomic(temp_file("truncated.bin"), bytes.substr(0, bytes.size() - 3));
  REQUIRE_THROWS_WITH(read_proposal_file(temp_file("truncated.bin")), Catch::Contains("truncated"));
  bytes[8] = 7;  // version field
  write_file_atomic(temp_file("v7.bin"), bytes);
  REQUIRE_THROWS_WITH(read_proposal_file(temp_file("v7.bin")), Catch::Contains("version 7"));
}

TEST_CASE("precomputed serves the cached boxes, best first, clipped, truncated", "[proposals][precomputed]") {
  ProposalFile f;
  f.images["img1"] = {{0, 0, 10, 10}, {5, 5, 500, 500}, {20, 20, 30, 30}};
  const fs::path file = temp_file("cache.bin");
  write_proposal_file(file, f);
  PrecomputedOptions o;
  o.path = file.string();
  o.max_proposals = 2;
  auto stage = make_precomputed(o);
  const Image img{"img1", cv::Mat(100, 200, CV_8UC3, cv::Scalar::all(0))};
  ImageContext ctx;
  ctx.image = &img;
  const Proposals p = stage->propose(ctx);
  REQUIRE(p.size() == 2);
  REQUIRE(p[0].box == Box{0, 0, 10, 10});
  REQUIRE(p[1].box == Box{5, 5, 200, 100});
  REQUIRE(p[0].objectness > p[1].objectness);

  const Image other{"img2", img.bgr};
  ctx.image = &other;
  REQUIRE_THROWS_WITH(stage->propose(ctx), Catch::Contains("cache.bin") && Catch::Contains("img2"));

  // With a fallback, missing images are computed once and remembered.
  std::atomic<int> calls{0};
  auto with_fallback = make_precomputed(o, std::make_unique<CountingStage>(calls));
  REQUIRE(with_fallback->propose(ctx).size() == 1);
  REQUIRE(with_fallback->propose(ctx).size() == 1);
  REQUIRE(calls == 1);
  ctx.image = &img;
  REQUIRE(with_fallback->propose(ctx).size() == 2);
  REQUIRE(calls == 1);
}

TEST_CASE("precomputed from a config: missing file, missing path", "[proposals][precomputed]") {
  Registries r;
  register_proposal_stages(r.proposals);
  BuildContext b;
  b.registries = &r;
  REQUIRE_THROWS_WITH(r.proposals.build(Config::parse("{type: precomputed, path: no/such/file.bin}"), b),
                      Catch::Contains("no/such/file.bin"));
  REQUIRE_THROWS_WITH(r.proposals.build(Config::parse("{type: precomputed}", "p.yaml"), b),
                      Catch::Contains("p.yaml") && Catch::Contains("path"));
  auto s = r.proposals.build(Config::parse("{type: precomputed, source: {type: sliding_window, windows: [16, 16]}}"), b);
  const Image img{"x", cv::Mat(32, 32, CV_8UC3, cv::Scalar::all(0))};
  ImageContext ctx;
  ctx.image = &img;
  // Levels 32, 27, 22, 19 px (step 1.2) hold 3x3, 2x2, 1 and 1 windows of 16 px at stride 8.
  REQUIRE(s->propose(ctx).size() == 15);
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files and the precomputed stage: round trip, truncation, fallback, bad files.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "proposals/precomputed.h"
#include "proposals/proposal_file.h"
#include "support/input_error.h"

using namespace detlab;
namespace fs = std::filesystem;
using detlab::testing::input_error_of;

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
  // header (magic, version, source, checksum) + records (name, count, boxes, checksum) + index + footer
  REQUIRE(fs::file_size(file) == 8 + 4 + 4 + f.source.size() + 8 + 3 * (2 + 1 + 4 + 8) + 3 * 8 +
                                     4 + 3 * (2 + 1 + 8 + 4) + 8 + 16);
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

namespace {

template <class T>
void put_le(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

}  // namespace

TEST_CASE("proposal caches: per-image reads, and every corrupted byte is caught by a checksum",
          "[proposals][precomputed]") {
  ProposalFile f;
  f.source = "{type: selective_search}";
  for (int i = 0; i < 20; ++i) f.images["img" + std::to_string(i)] = {{float(i), 0, 10.f + i, 10}, {1, 2, 3, 4}};
  const fs::path file = temp_file("checked.bin");
  write_proposal_file(file, f);
  const ProposalCache cache(file);
  CHECK(cache.version() == 2);
  CHECK(cache.size() == 20);
  CHECK(cache.source() == f.source);
  CHECK((*cache.boxes("img7") == f.images["img7"]));
  CHECK_FALSE(cache.boxes("img99").has_value());

  // Flip each byte of the file in turn (a sample of them): the file cannot be opened, or the image whose record
  // holds the byte cannot be read; never a silently different box.
  const std::string good = read_file(file);
  int caught_at_open = 0, caught_at_read = 0;
  for (size_t at = 0; at < good.size(); at += 3) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    const fs::path flipped = temp_file("flipped.bin");
    write_file_atomic(flipped, bad);
    INFO("byte " << at);
    std::unique_ptr<ProposalCache> c;
    try {
      c = std::make_unique<ProposalCache>(flipped);
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find("flipped.bin") != std::string::npos);
      ++caught_at_open;
      continue;
    }
    bool caught = false;
    for (const auto& [name, boxes] : f.images) {
      try {
        const std::optional<Boxes> b = c->boxes(name);
        CHECK((!b || *b == boxes));
      } catch (const InputError& e) {
        CHECK(std::string(e.what()).find("checksum mismatch") != std::string::npos);
        caught = true;
      }
    }
    CHECK(caught);
    ++caught_at_read;
  }
  CHECK(caught_at_open > 0);
  CHECK(caught_at_read > 0);
}

TEST_CASE("proposal caches: version 1 files are still read", "[proposals][precomputed]") {
  std::string v1("DLPROPS\0", 8);
  put_le<uint32_t>(v1, 1);
  put_le<uint32_t>(v1, 3);
  v1 += "src";
  put_le<uint32_t>(v1, 1);
  put_le<uint16_t>(v1, 1);
  v1 += "a";
  put_le<uint32_t>(v1, 1);
  for (int16_t v : {-3, 4, 50, 60}) put_le<uint16_t>(v1, static_cast<uint16_t>(v));
  write_file_atomic(temp_file("v1.bin"), v1);
  const ProposalFile g = read_proposal_file(temp_file("v1.bin"));
  CHECK(g.source == "src");
  REQUIRE(g.images.size() == 1);
  CHECK((g.images.at("a") == Boxes{{-3, 4, 50, 60}}));
}

TEST_CASE("proposal file writer: a killed run resumes from its partial file, a torn record is cut off",
          "[proposals][precomputed]") {
  const fs::path file = temp_file("resumed.bin");
  fs::remove(file);
  fs::remove(fs::path(file.string() + ".partial"));
  {
    ProposalFileWriter w(file, "stage A");
    w.add("a", {{0, 0, 5, 5}});
    w.add("b", {{1, 1, 6, 6}, {2, 2, 7, 7}});
  }  // killed before finish(): no file under its name, the partial file stays
  CHECK_FALSE(fs::exists(file));
  const fs::path partial(file.string() + ".partial");
  REQUIRE(fs::exists(partial));
  {
    std::ofstream torn(partial, std::ios::app | std::ios::binary);
    torn << std::string("\x01\x00" "c\x05\x00\x00\x00garbage", 12);  // the start of a record, cut short
  }
  {
    ProposalFileWriter w(file, "stage A");
    CHECK(w.resumed() == 2);
    CHECK(w.done("a"));
    CHECK(w.done("b"));
    CHECK_FALSE(w.done("c"));
    CHECK((*w.resumed_boxes("b") == Boxes{{1, 1, 6, 6}, {2, 2, 7, 7}}));
    w.add("c", {{3, 3, 8, 8}});
    w.finish();
  }
  CHECK_FALSE(fs::exists(partial));
  const ProposalFile g = read_proposal_file(file);
  CHECK(g.source == "stage A");
  REQUIRE(g.images.size() == 3);
  CHECK((g.images.at("c") == Boxes{{3, 3, 8, 8}}));

  // A partial file of another stage is not continued.
  {
    ProposalFileWriter w(file, "stage A");
    w.add("x", {});
  }
  ProposalFileWriter other(file, "stage B");
  CHECK(other.resumed() == 0);
  CHECK_FALSE(other.done("x"));
  other.finish();
  CHECK(read_proposal_file(file).images.empty());
  CHECK(input_error_of([&] { ProposalCache c(temp_file("nothing.bin")); }).find("nothing.bin") != std::string::npos);
}

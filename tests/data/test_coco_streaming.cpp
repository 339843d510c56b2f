// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// read_coco's streaming path against its checked reader: on every file the streaming path accepts, the same
// Dataset; on random variations of valid and invalid COCO files, it either agrees or hands the file over.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include "core/error.h"
#include "data/coco_streaming.h"
#include "data/data_test_util.h"
#include "data/formats.h"
#include "support/dataset_diff.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

namespace {

/// A COCO file with random choices among valid and invalid forms of each field (most choices valid).
std::string random_coco(std::mt19937& rng) {
  auto pick = [&](std::initializer_list<const char*> options) {
    const std::vector<const char*> v(options);
    // The first option is the valid one and comes 90 % of the time (a file has dozens of choices).
    return std::string(rng() % 10 ? v[0] : v[rng() % v.size()]);
  };
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  std::vector<std::string> parts;
  if (chance(95))
    parts.push_back(R"("categories": [{"id": 7, "name": "cat", "supercategory": "x"}, {"id": )" +
                    pick({"3", "7", "\"3\"", "3.0"}) + R"(, "name": )" + pick({"\"dog\"", "3", "\"cat\""}) + "}]");
  if (chance(95)) {
    std::string images = R"("images": [)";
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) {
      images += std::string(i ? ", " : "") + "{\"id\": " + (i == 1 ? pick({"11", "10", "-5", "1e1"}) : std::to_string(10 + i)) +
                ", \"file_name\": " + pick({"\"im/a.jpg\"", "\"/abs.jpg\"", "\"../x.jpg\"", "\"\"", "\"caf\\u00e9.jpg\"", "5"});
      if (chance(70)) images += ", \"width\": " + pick({"640", "0", "40000", "\"640\""});
      if (chance(70)) images += ", \"height\": " + pick({"480", "-1", "480.5"});
      if (chance(30)) images += R"(, "license": 3, "coco_url": "http://x", "extra": {"a": [1, {"b": null}]})";
      images += "}";
    }
    parts.push_back(images + "]");
  }
  if (chance(90)) {
    std::string anns = R"("annotations": [)";
    const int n = static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> fields;
      if (chance(97)) fields.push_back("\"image_id\": " + pick({"10", "11", "99", "\"10\""}));
      if (chance(97)) fields.push_back("\"category_id\": " + pick({"7", "3", "8"}));
      if (chance(97))
        fields.push_back("\"bbox\": " + pick({"[1.5, 2, 30.25, 40]", "[1, 1, 0, 5]", "[10, 1, -5, 5]", "[1, 1, 5]",
                                              "[1e38, 1, 1e38, 5]", "[1, 2, 3, 4, 5]", "[0.1, 0.2, 0.3, 0.4]",
                                              "[\"1\", 2, 3, 4]", "{}"}));
      if (chance(40)) fields.push_back("\"iscrowd\": " + pick({"0", "1", "true", "2", "\"0\""}));
      if (chance(30)) fields.push_back("\"difficult\": " + pick({"1", "false", "-1"}));
      if (chance(30)) fields.push_back("\"ignore\": " + pick({"1", "0", "7"}));
      if (chance(50)) fields.push_back("\"area\": " + pick({"1200.5", "0", "-3", "null"}));
      if (chance(60)) fields.push_back("\"id\": " + pick({"5", "9223372036854775807", "1.5"}));
      if (chance(60)) fields.push_back(R"("segmentation": [[1.5, 2.25, 30, 2, 30, 40, 1.5, 40]])");
      std::shuffle(fields.begin(), fields.end(), rng);
      std::string a = "{";
      for (size_t k = 0; k < fields.size(); ++k) a += (k ? ", " : "") + fields[k];
      anns += std::string(i ? ", " : "") + a + "}";
    }
    parts.push_back(anns + "]");
  }
  if (chance(40)) parts.push_back("\"info\": " + pick({"{\"description\": \"my set\", \"version\": \"1\"}",
                                                       "{\"description\": 5}", "[]", "{\"description\": \"\"}"}));
  if (chance(30)) parts.push_back("\"splits\": " + pick({"{\"train\": [10], \"val\": [10, 11]}", "{\"x\": [99]}",
                                                         "{\"x\": 5}", "[]"}));
  if (chance(10)) parts.push_back(R"("images": [{"id": 1, "file_name": "dup.jpg"}])");  // a repeated key: the last wins
  if (chance(20)) parts.push_back(R"("licenses": [{"id": 1, "name": "CC \u00e9", "url": ""}])");
  std::shuffle(parts.begin(), parts.end(), rng);
  std::string text = "{";
  for (size_t k = 0; k < parts.size(); ++k) text += (k ? ",\n " : "") + parts[k];
  return text + (chance(3) ? "} x" : "}\n");
}

}  // namespace

TEST_CASE("coco streaming reader gives the checked reader's Dataset, or hands the file over", "[data][coco]") {
  TempDir tmp("coco_streaming");
  std::mt19937 rng(7);
  int fast = 0, handed_over = 0, both_refuse = 0;
  for (int i = 0; i < 1500; ++i) {
    const std::string text = random_coco(rng);
    const fs::path file = tmp / "ann.json";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    for (const bool drop_empty : {true, false}) {
      ReadOptions opts;
      opts.drop_empty_boxes = drop_empty;
      if (i % 5 == 0) opts.classes = {"dog", "cat"};
      if (i % 10 == 0) opts.skip_other_classes = true, opts.classes = {"dog"};
      std::vector<std::string> warnings;
      const std::optional<Dataset> streamed = detail::read_coco_streaming(file, "/images", opts, warnings);
      std::optional<Dataset> checked;
      {
        CaptureStderr quiet;  // the checked reader warns about dropped boxes
        try {
          checked = detail::read_coco_checked(file, "/images", opts);
        } catch (const InputError&) {
        }
      }
      INFO(text);
      if (streamed) {
        REQUIRE(checked.has_value());
        CHECK(testing::dataset_difference(*streamed, *checked) == "");
        ++fast;
      } else {
        CHECK(warnings.empty());
        (checked ? handed_over : both_refuse)++;
      }
    }
  }
  // Every outcome is exercised: most valid files stream, invalid ones are handed over.
  CHECK(fast > 700);
  CHECK(both_refuse > 700);
  CHECK(handed_over < fast);
}

TEST_CASE("coco streaming reader reads the sample exports and a written file like the checked reader",
          "[data][coco]") {
  for (const char* rel : {"voc2012-sample/coco/coco_format_v1/instances_default.json",
                          "voc2012-sample/coco/coco_format_v2/instances_v2.json"}) {
    INFO(rel);
    std::vector<std::string> warnings;
    const auto streamed = detail::read_coco_streaming(test_data(rel), {}, {}, warnings);
    REQUIRE(streamed.has_value());
    CHECK(testing::dataset_difference(*streamed, detail::read_coco_checked(test_data(rel), {}, {})) == "");
  }
}

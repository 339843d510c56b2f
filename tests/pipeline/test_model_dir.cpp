// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Model folders: header round trip and every refusal (missing, version, type, classes, missing file).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "pipeline/model_dir.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {
fs::path fresh(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("detlab_test_model_dir_" + name);
  fs::remove_all(d);
  return d;
}
}  // namespace

TEST_CASE("model header round trip and stage files", "[pipeline][model_dir]") {
  const fs::path dir = fresh("ok");
  ModelHeader h;
  h.type = "staged";
  h.config_hash = "abc";
  h.class_names = {"a", "b"};
  h.files = save_model_files(dir, [](const fs::path& tmp) {
    write_versioned_json(tmp / "x.json", "x", 3, {{"v", 1.5}});
    std::ofstream(tmp / "w.bin") << "weights";
  });
  REQUIRE(h.files == std::vector<std::string>{"w.bin", "x.json"});
  write_model_header(dir, h);
  for (const auto& e : fs::directory_iterator(dir)) REQUIRE(e.path().filename().string().rfind(".saving", 0) != 0);
  const ModelHeader r = read_model_header(dir, "staged", {"a", "b"}, "abc");
  REQUIRE(r.files == h.files);
  REQUIRE(r.class_names == h.class_names);
  REQUIRE(read_versioned_json(dir / "x.json", "x", 3).at("v").get<double>() == 1.5);
  REQUIRE(read_model_header(dir, "staged", {}, "").type == "staged");  // empty classes / hash: not checked
}

TEST_CASE("model folders refuse what does not fit, naming the file", "[pipeline][model_dir]") {
  const fs::path dir = fresh("bad");
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {}, ""), Catch::Contains("model folder not found"));
  fs::create_directories(dir);
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {}, ""), Catch::Contains("detector.json"));
  ModelHeader h;
  h.type = "staged";
  h.class_names = {"a"};
  h.files = {"gone.json"};
  write_model_header(dir, h);
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {"a"}, ""), Catch::Contains("gone.json"));
  h.files = {};
  write_model_header(dir, h);
  REQUIRE_THROWS_WITH(read_model_header(dir, "dlib_fhog", {"a"}, ""), Catch::Contains("'staged'"));
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {"b"}, ""), Catch::Contains("class_names"));
  h.format_version = 7;
  write_model_header(dir, h);
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {"a"}, ""), Catch::Contains("version 7"));
  write_file_atomic(dir / "detector.json", std::string("{not json"));
  REQUIRE_THROWS_AS(read_model_header(dir, "staged", {"a"}, ""), InputError);

  write_versioned_json(dir / "s.json", "sliding_window", 1, nlohmann::json::object());
  REQUIRE_THROWS_WITH(read_versioned_json(dir / "s.json", "linear_svm", 1), Catch::Contains("'sliding_window'"));
  REQUIRE_THROWS_WITH(read_versioned_json(dir / "s.json", "sliding_window", 2), Catch::Contains("version 1"));
  REQUIRE_THROWS_WITH(read_versioned_json(dir / "t.json", "x", 1), Catch::Contains("t.json"));
}

TEST_CASE("model folders: a stage file changed after saving is refused by its checksum", "[pipeline][model_dir]") {
  const fs::path dir = fresh("checksums");
  ModelHeader h;
  h.type = "staged";
  h.class_names = {"a"};
  h.files = save_model_files(dir, [](const fs::path& tmp) {
    std::ofstream(tmp / "weights.pt", std::ios::binary) << std::string(1000, 'w');
    std::ofstream(tmp / "svm.json") << "{}";
  });
  write_model_header(dir, h);
  REQUIRE(read_model_header(dir, "staged", {"a"}, "").checksums.size() == 2);
  std::string bytes = read_file(dir / "weights.pt");
  bytes[500] = 'x';  // one flipped byte
  write_file_atomic(dir / "weights.pt", bytes);
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {"a"}, ""),
                      Catch::Contains("weights.pt") && Catch::Contains("checksum"));
  write_file_atomic(dir / "weights.pt", bytes.substr(0, 999));  // truncated
  REQUIRE_THROWS_WITH(read_model_header(dir, "staged", {"a"}, ""), Catch::Contains("checksum"));
  // A folder saved before checksums existed (no "checksums" key) still loads.
  nlohmann::json j = nlohmann::json::parse(read_file(dir / "detector.json"));
  j.erase("checksums");
  write_file_atomic(dir / "detector.json", j.dump());
  REQUIRE(read_model_header(dir, "staged", {"a"}, "").checksums.empty());
}

TEST_CASE("a failing save leaves no stage files", "[pipeline][model_dir]") {
  const fs::path dir = fresh("fail");
  REQUIRE_THROWS(save_model_files(dir, [](const fs::path& tmp) {
    std::ofstream(tmp / "half.bin") << "x";
    throw std::runtime_error("disk full");
  }));
  REQUIRE(fs::is_empty(dir));
}

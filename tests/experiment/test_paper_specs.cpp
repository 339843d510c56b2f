// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The classic papers' tables (experiments/papers/*.yaml): every claim and published number names a row the
// spec has, and every spec's quick preset runs end to end (tiny schedules, a few test images, every row where
// the preset keeps it) into a table with the paper column and claims.md, so that no spec rots between the
// `make papers` runs that regenerate results/papers/.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/atomic_file.h"
#include "experiment/ablate_spec.h"
#include "support/cli_runner.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> paper_specs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator("experiments/papers"))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The row labels of the table the spec makes: each setting's axis labels joined by ", ".
std::set<std::string> row_labels(const AblationSpec& spec) {
  std::set<std::string> rows;
  for (const GridPoint& p : grid_points(spec)) {
    std::string label;
    for (size_t a = 0; a < p.value_index.size(); ++a) {
      if (a) label += ", ";
      label += spec.axes[a].labels()[p.value_index[a]];
    }
    rows.insert(label);
  }
  return rows;
}

}  // namespace

TEST_CASE("paper specs: claims and published numbers name rows of the table", "[experiment][papers]") {
  const std::vector<fs::path> specs = paper_specs();
  REQUIRE(specs.size() >= 5);
  for (const fs::path& f : specs) {
    INFO(f.string());
    const AblationSpec spec = load_ablation_spec(f);
    const std::set<std::string> rows = row_labels(spec);
    CHECK(spec.seeds.size() >= 3);  // a claim needs seeds to be judged
    REQUIRE_FALSE(spec.claims.empty());
    for (const Claim& c : spec.claims) {
      INFO(c.text);
      CHECK(rows.count(c.better));
      CHECK(rows.count(c.worse));
      CHECK_FALSE(c.source.empty());
    }
    for (const auto& [label, value] : spec.paper.values) {
      INFO("paper value for " << label);
      CHECK(rows.count(label));
    }
  }
}

TEST_CASE("paper specs: every quick preset runs into a table with the paper column and claims",
          "[experiment][papers][e2e]") {
  testing::TempDir tmp("detlab_test_paper_specs");
  for (const fs::path& f : paper_specs()) {
    INFO(f.string());
    const AblationSpec quick = load_ablation_spec(f, true);
    const fs::path out = tmp.path / f.stem();
    const testing::CliResult r = testing::detlab_run(
        {"ablate", f.string(), "--quick", "--no-plots", "--threads", "2", "--out", out.string()});
    INFO(r.err.substr(r.err.size() > 3000 ? r.err.size() - 3000 : 0));
    REQUIRE(r.code == 0);
    const std::string table = read_file(out / "table.md");
    for (const std::string& row : row_labels(quick)) CHECK(table.find("| " + row + " |") != std::string::npos);
    if (!quick.paper.values.empty()) CHECK(table.find("| paper |") != std::string::npos);
    const std::string claims = read_file(out / "claims.md");
    for (const Claim& c : quick.claims) {
      CHECK(claims.find(c.text) != std::string::npos);
      if (c.metric.rfind("errors.", 0) == 0) CHECK(std::filesystem::exists(out / "errors.md"));
    }
  }
}

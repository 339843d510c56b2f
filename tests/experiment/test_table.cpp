// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Result tables: Markdown, CSV and LaTeX output of one table model, escaping, NaN and notes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/atomic_file.h"
#include "experiment/table.h"

using namespace detlab;

namespace {
Table sample() {
  Table t;
  t.caption = "Two detectors";
  t.header = {"Detector", "AP", "ms/img"};
  t.rows.push_back({Cell::str("HOG+SVM"), Cell::num(0.30519, 3), Cell::num(917.94, 1)});
  Cell with_note = Cell::num(0.5, 3);
  with_note.note = "\xC2\xB1 0.010";
  t.rows.push_back({Cell::str("R-CNN | a, \"b\""), with_note, Cell::num(std::nan(""), 1)});
  return t;
}
}  // namespace

TEST_CASE("markdown table: right-aligned numbers, notes, n/a, escaped pipes", "[experiment][table]") {
  REQUIRE(to_markdown(sample()) ==
          "*Two detectors*\n\n"
          "| Detector | AP | ms/img |\n"
          "|---|---:|---:|\n"
          "| HOG+SVM | 0.305 | 917.9 |\n"
          "| R-CNN \\| a, \"b\" | 0.500 \xC2\xB1 0.010 | n/a |\n");
}

TEST_CASE("csv table: full precision, quoted fields, empty NaN, no notes", "[experiment][table]") {
  REQUIRE(to_csv(sample()) ==
          "Detector,AP,ms/img\n"
          "HOG+SVM,0.30519000000000002,917.94000000000005\n"
          "\"R-CNN | a, \"\"b\"\"\",0.5,\n");
}

TEST_CASE("latex table: booktabs, escaped text, plus-minus in math mode", "[experiment][table]") {
  Table t = sample();
  t.rows[0][0] = Cell::str("HOG_SVM & 100%");
  const std::string tex = to_latex(t);
  REQUIRE(tex.find("\\begin{tabular}{lrr}") != std::string::npos);
  REQUIRE(tex.find("\\toprule\nDetector & AP & ms/img \\\\\n\\midrule\n") != std::string::npos);
  REQUIRE(tex.find("HOG\\_SVM \\& 100\\% & 0.305 & 917.9 \\\\") != std::string::npos);
  REQUIRE(tex.find("0.500 $\\pm$ 0.010") != std::string::npos);
  REQUIRE(tex.find("\\caption{Two detectors}") != std::string::npos);
  REQUIRE(tex.find("\\bottomrule") != std::string::npos);
}

TEST_CASE("a numeric column with an empty text cell (a failed row) stays numeric", "[experiment][table]") {
  Table t;
  t.header = {"Detector", "AP"};
  t.rows = {{Cell::str("a"), Cell::num(0.1)}, {Cell::str("b"), Cell::str("")}};
  REQUIRE(t.numeric_columns() == std::vector<bool>{false, true});
  t.rows.push_back({Cell::str("c"), Cell::str("failed")});
  REQUIRE(t.numeric_columns() == std::vector<bool>{false, false});
}

TEST_CASE("rows of the wrong size are refused, write_table writes all three files", "[experiment][table]") {
  Table bad;
  bad.header = {"a", "b"};
  bad.rows = {{Cell::str("x")}};
  REQUIRE_THROWS_AS(to_markdown(bad), std::invalid_argument);
  const auto dir = std::filesystem::temp_directory_path() / ("detlab_test_table_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_table(dir / "t", sample());
  REQUIRE(read_file(dir / "t.md") == to_markdown(sample()));
  REQUIRE(read_file(dir / "t.csv") == to_csv(sample()));
  REQUIRE(read_file(dir / "t.tex") == to_latex(sample()));
}

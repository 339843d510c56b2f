// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Result tables: one model (header + rows of typed cells) written as Markdown, CSV and LaTeX alike.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace detlab {

/// One table cell. A number keeps its value (CSV writes it at full precision) and the number of decimals
/// shown in Markdown / LaTeX; text cells are written as they are (escaped per format). A NaN number is an
/// empty CSV cell and "n/a" in Markdown / LaTeX. `note` (e.g. "± 0.012 [0.40, 0.43]") follows the value in
/// Markdown / LaTeX only; CSV gives notes their own columns instead (see Table::csv_extra).
struct Cell {
  enum class Kind { kText, kNumber };
  Kind kind = Kind::kText;
  std::string text;
  double value = 0;
  int decimals = 3;
  std::string note;

  static Cell str(std::string s);
  static Cell num(double v, int decimals = 3);
};

/// A table: column names, rows of cells (row size == header size), optional caption (Markdown: a line above;
/// LaTeX: \caption). Columns whose name starts with a digit or contains symbols are escaped for LaTeX.
struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<std::vector<Cell>> rows;
  /// Right-align numeric columns in Markdown / LaTeX (text columns stay left-aligned).
  std::vector<bool> numeric_columns() const;
};

/// GitHub Markdown: a pipe table (caption as an italic line above it when set).
/// requires: every row has header.size() cells.
std::string to_markdown(const Table& t);
/// RFC 4180 CSV: header line, then rows; fields with commas, quotes or newlines are quoted. Numbers are
/// written with 17 significant digits (round-trip exact); NaN as an empty field; notes are dropped.
std::string to_csv(const Table& t);
/// A LaTeX `table` float with a booktabs `tabular` (\toprule / \midrule / \bottomrule); text escaped
/// (& % $ # _ { } ~ ^ \). Needs \usepackage{booktabs} in the including document.
std::string to_latex(const Table& t);

/// Writes <stem>.md, <stem>.csv and <stem>.tex, each atomically.
void write_table(const std::filesystem::path& stem, const Table& t);

/// Fixed-point text of v with `decimals` digits; "n/a" for NaN.
std::string format_fixed(double v, int decimals);

}  // namespace detlab

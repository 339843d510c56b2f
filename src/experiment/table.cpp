// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Table writers: Markdown, CSV, LaTeX.
#include "experiment/table.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/csv.h"
#include "core/error.h"

namespace detlab {

Cell Cell::str(std::string s) {
  Cell c;
  c.text = std::move(s);
  return c;
}

Cell Cell::num(double v, int decimals) {
  Cell c;
  c.kind = Kind::kNumber;
  c.value = v;
  c.decimals = decimals;
  return c;
}

std::string format_fixed(double v, int decimals) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::vector<bool> Table::numeric_columns() const {
  std::vector<bool> numeric(header.size(), false);
  for (size_t c = 0; c < header.size(); ++c) {
    bool any = false, all = true;
    for (const auto& row : rows) {
      if (c >= row.size()) continue;
      const bool is_num = row[c].kind == Cell::Kind::kNumber;
      // Empty text cells (a failed row) do not make a numeric column textual.
      if (!is_num && !row[c].text.empty()) all = false;
      any = any || is_num;
    }
    numeric[c] = any && all;
  }
  return numeric;
}

namespace {

void check_shape(const Table& t) {
  for (size_t r = 0; r < t.rows.size(); ++r)
    DETLAB_REQUIRE(t.rows[r].size() == t.header.size(), "table row has the wrong number of cells", r,
                   t.rows[r].size(), t.header.size());
}

std::string display_text(const Cell& c) {
  std::string s = c.kind == Cell::Kind::kNumber ? format_fixed(c.value, c.decimals) : c.text;
  if (!c.note.empty()) s += " " + c.note;
  return s;
}

std::string escape_markdown(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += ' ';
    else out += ch;
  }
  return out;
}

std::string escape_latex(const std::string& s) {
  std::string out;
  // "±" is common in notes; LaTeX without inputenc tricks wants the math symbol.
  for (size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (s.compare(i, 2, "\xC2\xB1") == 0) {
      out += "$\\pm$";
      ++i;
      continue;
    }
    switch (ch) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}':
        out += '\\';
        out += ch;
        break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      case '\n': out += ' '; break;
      default: out += ch;
    }
  }
  return out;
}


std::string csv_number(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);  // 17 significant digits round-trip any double
  return buf;
}

}  // namespace

std::string to_markdown(const Table& t) {
  check_shape(t);
  const std::vector<bool> numeric = t.numeric_columns();
  std::ostringstream os;
  if (!t.caption.empty()) os << "*" << escape_markdown(t.caption) << "*\n\n";
  os << "|";
  for (const std::string& h : t.header) os << " " << escape_markdown(h) << " |";
  os << "\n|";
  for (size_t c = 0; c < t.header.size(); ++c) os << (numeric[c] ? "---:|" : "---|");
  os << "\n";
  for (const auto& row : t.rows) {
    os << "|";
    for (const Cell& cell : row) os << " " << escape_markdown(display_text(cell)) << " |";
    os << "\n";
  }
  return os.str();
}

std::string to_csv(const Table& t) {
  check_shape(t);
  std::ostringstream os;
  for (size_t c = 0; c < t.header.size(); ++c) os << (c ? "," : "") << csv_field(t.header[c]);
  os << "\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      const Cell& cell = row[c];
      os << (c ? "," : "") << (cell.kind == Cell::Kind::kNumber ? csv_number(cell.value) : csv_field(cell.text));
    }
    os << "\n";
  }
  return os.str();
}

std::string to_latex(const Table& t) {
  check_shape(t);
  const std::vector<bool> numeric = t.numeric_columns();
  std::ostringstream os;
  os << "\\begin{table}[ht]\n\\centering\n";
  if (!t.caption.empty()) os << "\\caption{" << escape_latex(t.caption) << "}\n";
  os << "\\begin{tabular}{";
  for (size_t c = 0; c < t.header.size(); ++c) os << (numeric[c] ? 'r' : 'l');
  os << "}\n\\toprule\n";
  for (size_t c = 0; c < t.header.size(); ++c) os << (c ? " & " : "") << escape_latex(t.header[c]);
  os << " \\\\\n\\midrule\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) os << (c ? " & " : "") << escape_latex(display_text(row[c]));
    os << " \\\\\n";
  }
  os << "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
  return os.str();
}

void write_table(const std::filesystem::path& stem, const Table& t) {
  const std::string base = stem.string();
  write_file_atomic(base + ".md", to_markdown(t));
  write_file_atomic(base + ".csv", to_csv(t));
  write_file_atomic(base + ".tex", to_latex(t));
}

}  // namespace detlab

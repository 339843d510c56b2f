// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// read_xml_file (see xml_file.h): a linear pre-scan for the nesting depth, then PropertyTree's parser.
#include "data/xml_file.h"

#include <boost/property_tree/xml_parser.hpp>

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace detlab::detail {

namespace pt = boost::property_tree;

int xml_depth(const std::string& s, int limit) {
  int depth = 0, deepest = 0;
  const size_t n = s.size();
  auto skip_past = [&](size_t from, const char* end) {
    const size_t at = s.find(end, from);
    return at == std::string::npos ? n : at + std::char_traits<char>::length(end);
  };
  for (size_t i = s.find('<'); i < n && deepest <= limit; i = s.find('<', i)) {
    if (s.compare(i, 4, "<!--") == 0) {
      i = skip_past(i + 4, "-->");
    } else if (s.compare(i, 9, "<![CDATA[") == 0) {
      i = skip_past(i + 9, "]]>");
    } else if (s.compare(i, 2, "<?") == 0) {
      i = skip_past(i + 2, "?>");
    } else if (s.compare(i, 2, "<!") == 0) {
      i = skip_past(i + 2, ">");
    } else if (s.compare(i, 2, "</") == 0) {
      --depth;
      i = skip_past(i + 2, ">");
    } else {  // a start tag: up to its '>' outside quotes; "/>" closes it at once
      size_t j = i + 1;
      char quote = 0;
      for (; j < n; ++j) {
        if (quote) {
          if (s[j] == quote) quote = 0;
        } else if (s[j] == '"' || s[j] == '\'') {
          quote = s[j];
        } else if (s[j] == '>') {
          break;
        }
      }
      if (j >= n || s[j - 1] != '/') deepest = std::max(deepest, ++depth);
      i = j < n ? j + 1 : n;
    }
  }
  return deepest;
}

pt::ptree read_xml_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  if (xml_depth(text.str(), kMaxXmlDepth) > kMaxXmlDepth)
    throw InputError(file.string(), "xml",
                     "elements nested deeper than " + std::to_string(kMaxXmlDepth) + " levels (the reader's limit)");
  std::istringstream parse(text.str());
  pt::ptree tree;
  try {
    pt::read_xml(parse, tree, pt::xml_parser::trim_whitespace);
  } catch (const pt::xml_parser_error& e) {
    throw InputError(file.string(), "xml", "line " + std::to_string(e.line()) + ": " + e.message());
  }
  return tree;
}

}  // namespace detlab::detail

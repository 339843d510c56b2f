// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The XML reader shared by the VOC and dlib readers: Boost.PropertyTree behind a nesting limit.
#pragma once

#include <boost/property_tree/ptree.hpp>

#include <filesystem>
#include <string>

namespace detlab::detail {

/// Elements deeper than this are refused: VOC and dlib files nest 4 levels, and PropertyTree's parser recurses
/// once per level, so a hostile file nested 100,000 deep would overflow the stack.
constexpr int kMaxXmlDepth = 64;

/// The element depth the text reaches (comments, CDATA, processing instructions and declarations skipped;
/// quoted attribute values may hold '>'), stopping early once it passes `limit`.
int xml_depth(const std::string& text, int limit);

/// Reads and parses an XML file (whitespace trimmed). InputError naming the file: cannot open, nested deeper
/// than kMaxXmlDepth (field "xml"), or a parse error with its line (field "xml").
boost::property_tree::ptree read_xml_file(const std::filesystem::path& file);

}  // namespace detlab::detail

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// One CSV field as RFC 4180 writes it (class names may hold commas or quotes).
#pragma once

#include <string>

namespace detlab {

/// s unchanged, or in double quotes with inner quotes doubled when it holds a comma, a quote or a line break.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

}  // namespace detlab

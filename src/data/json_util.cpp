// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checked nlohmann::json access: parse errors and type errors become InputError naming file and field.
#include "data/json_util.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace detlab::detail {

using nlohmann::json;

namespace {

// The last object key ("key":) that starts before byte `pos` of `text`, or "" when there is none.
std::string key_before(const std::string& text, size_t pos) {
  size_t p = std::min(pos, text.size());
  while (p > 0) {
    const size_t colon = text.rfind(':', p - 1);
    if (colon == std::string::npos) return {};
    size_t q = colon;
    while (q > 0 && std::isspace(static_cast<unsigned char>(text[q - 1]))) --q;
    if (q >= 2 && text[q - 1] == '"') {
      const size_t open = text.rfind('"', q - 2);
      if (open != std::string::npos) return text.substr(open + 1, q - 2 - open);
    }
    p = colon;
  }
  return {};
}

const char* kind_name(JsonKind kind) {
  switch (kind) {
    case JsonKind::kObject: return "an object";
    case JsonKind::kArray: return "an array";
    case JsonKind::kString: return "a string";
    case JsonKind::kInteger: return "an integer";
    case JsonKind::kNumber: return "a number";
    case JsonKind::kBoolean: return "a boolean";
  }
  return "a value";
}

}  // namespace

json parse_json_file(const std::filesystem::path& file) {
  const std::string text = read_file(file);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    std::string what = e.what();
    const size_t bracket = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) what = what.substr(bracket + 2);
    size_t pos = std::string::npos;
    if (const auto* pe = dynamic_cast<const json::parse_error*>(&e)) {
      pos = pe->byte > 0 ? pe->byte - 1 : 0;
    } else if (const size_t q = what.find("parsing '"); q != std::string::npos) {  // number overflow: find the literal
      const std::string literal = what.substr(q + 9, what.find('\'', q + 9) - q - 9);
      pos = text.find(literal);
    }
    const std::string key = pos == std::string::npos ? "" : key_before(text, pos);
    throw InputError(file.string(), key.empty() ? "JSON" : key,
                     "invalid JSON (NaN, Infinity and out-of-range numbers are not allowed): " + what);
  }
}

const json& json_get(const json& obj, const std::string& key, JsonKind kind, const std::string& file,
                     const std::string& field) {
  if (!obj.is_object()) throw InputError(file, field, "expected an object holding '" + key + "'");
  auto it = obj.find(key);
  if (it == obj.end()) throw InputError(file, field, "missing");
  bool ok = false;
  switch (kind) {
    case JsonKind::kObject: ok = it->is_object(); break;
    case JsonKind::kArray: ok = it->is_array(); break;
    case JsonKind::kString: ok = it->is_string(); break;
    case JsonKind::kInteger: ok = it->is_number_integer(); break;
    case JsonKind::kNumber: ok = it->is_number(); break;
    case JsonKind::kBoolean: ok = it->is_boolean(); break;
  }
  if (!ok) throw InputError(file, field, std::string("expected ") + kind_name(kind) + ", got " + it->dump());
  return *it;
}

double json_number(const json& v, const std::string& file, const std::string& field) {
  if (!v.is_number()) throw InputError(file, field, "expected a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw InputError(file, field, "non-finite number");
  return d;
}

bool json_flag(const json& v, const std::string& file, const std::string& field) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1)) return v.get<int64_t>() == 1;
  throw InputError(file, field, "expected true/false or 0/1, got " + v.dump());
}

}  // namespace detlab::detail

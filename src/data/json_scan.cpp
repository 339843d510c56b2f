// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// JsonScanner (see json_scan.h).
#include "data/json_scan.h"

#include <charconv>
#include <cstring>

namespace detlab::detail {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Numbers with this many exponent or mantissa digits may overflow a double: refused (the checked reader then
// decides, as nlohmann does: overflow is an error, underflow is 0).
constexpr int kMaxExponent = 300;
constexpr int kMaxMantissaDigits = 300;

}  // namespace

JsonScanner::JsonScanner(const char* begin, const char* end) : p_(begin), end_(end) {}

void JsonScanner::skip_ws() {
  while (p_ < end_ && is_ws(*p_)) ++p_;
}

void JsonScanner::expect(char c) {
  if (p_ >= end_ || *p_ != c) fail();
  ++p_;
}

JsonScanner::Kind JsonScanner::peek() {
  skip_ws();
  if (p_ >= end_) fail();
  switch (*p_) {
    case '{': return Kind::kObject;
    case '[': return Kind::kArray;
    case '"': return Kind::kString;
    case 't':
    case 'f': return Kind::kBoolean;
    case 'n': return Kind::kNull;
    default:
      if (*p_ == '-' || is_digit(*p_)) return Kind::kNumber;
      fail();
  }
}

void JsonScanner::begin_object() {
  skip_ws();
  expect('{');
  first_.push_back(1);
}

void JsonScanner::begin_array() {
  skip_ws();
  expect('[');
  first_.push_back(1);
}

bool JsonScanner::next_key(std::string& key) {
  if (first_.empty()) fail();
  skip_ws();
  if (p_ >= end_) fail();
  if (*p_ == '}') {
    ++p_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) {
    expect(',');
    skip_ws();
  }
  first_.back() = 0;
  expect('"');
  key.clear();
  scan_string(&key);
  skip_ws();
  expect(':');
  return true;
}

bool JsonScanner::next_element() {
  if (first_.empty()) fail();
  skip_ws();
  if (p_ >= end_) fail();
  if (*p_ == ']') {
    ++p_;
    first_.pop_back();
    return false;
  }
  if (!first_.back()) {
    expect(',');
    skip_ws();
    if (p_ < end_ && *p_ == ']') fail();  // a trailing comma
  }
  first_.back() = 0;
  return true;
}

const char* JsonScanner::scan_number(bool* is_integer) {
  const char* p = p_;
  if (p < end_ && *p == '-') ++p;
  if (p >= end_ || !is_digit(*p)) fail();
  int mantissa = 0;
  if (*p == '0') {
    ++p, ++mantissa;
  } else {
    while (p < end_ && is_digit(*p)) ++p, ++mantissa;
  }
  bool integer = true;
  if (p < end_ && *p == '.') {
    integer = false;
    ++p;
    if (p >= end_ || !is_digit(*p)) fail();
    while (p < end_ && is_digit(*p)) ++p, ++mantissa;
  }
  if (p < end_ && (*p == 'e' || *p == 'E')) {
    integer = false;
    ++p;
    if (p < end_ && (*p == '+' || *p == '-')) ++p;
    if (p >= end_ || !is_digit(*p)) fail();
    int exponent = 0;
    while (p < end_ && is_digit(*p)) {
      exponent = exponent * 10 + (*p - '0');
      if (exponent >= kMaxExponent) fail();
      ++p;
    }
  }
  if (mantissa >= kMaxMantissaDigits) fail();
  *is_integer = integer;
  return p;
}

void JsonScanner::scan_string(std::string* out) {
  for (;;) {
    const char* run = p_;
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++p_;
    }
    if (out) out->append(run, p_);
    if (p_ >= end_) fail();
    const auto c = static_cast<unsigned char>(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c < 0x20) fail();
    if (c == '\\') {
      ++p_;
      if (p_ >= end_) fail();
      const char e = *p_++;
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': break;
        default: fail();
      }
      if (e != 'u') {
        if (out) *out += plain;
        continue;
      }
      auto read_hex4 = [&]() -> uint32_t {
        if (end_ - p_ < 4) fail();
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
          const int h = hex_value(p_[i]);
          if (h < 0) fail();
          v = v * 16 + static_cast<uint32_t>(h);
        }
        p_ += 4;
        return v;
      };
      uint32_t cp = read_hex4();
      if (cp >= 0xDC00 && cp <= 0xDFFF) fail();  // a low surrogate first
      if (cp >= 0xD800 && cp <= 0xDBFF) {        // a high surrogate: its low half must follow
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail();
        p_ += 2;
        const uint32_t low = read_hex4();
        if (low < 0xDC00 || low > 0xDFFF) fail();
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      if (out) append_utf8(*out, cp);
      continue;
    }
    // A multi-byte UTF-8 sequence, checked as in the Unicode standard's table 3-7 (no overlongs, no
    // surrogates, nothing above U+10FFFF).
    const char* start = p_;
    int trail = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      trail = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      trail = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      trail = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      fail();
    }
    ++p_;
    for (int i = 0; i < trail; ++i, ++p_) {
      if (p_ >= end_) fail();
      const auto t = static_cast<unsigned char>(*p_);
      if (t < (i == 0 ? lo : 0x80) || t > (i == 0 ? hi : 0xBF)) fail();
    }
    if (out) out->append(start, p_);
  }
}

void JsonScanner::scan_literal(const char* word, size_t length) {
  if (static_cast<size_t>(end_ - p_) < length || std::memcmp(p_, word, length) != 0) fail();
  p_ += length;
}

int64_t JsonScanner::read_int64() {
  skip_ws();
  bool integer = false;
  const char* token_end = scan_number(&integer);
  if (!integer) fail();
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(p_, token_end, v);
  if (ec != std::errc() || ptr != token_end) fail();  // outside int64_t
  p_ = token_end;
  return v;
}

double JsonScanner::read_double() {
  skip_ws();
  bool integer = false;
  const char* token_end = scan_number(&integer);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(p_, token_end, v);
  if (ec != std::errc() || ptr != token_end) fail();
  p_ = token_end;
  return v;
}

bool JsonScanner::read_bool() {
  skip_ws();
  if (p_ < end_ && *p_ == 't') {
    scan_literal("true", 4);
    return true;
  }
  scan_literal("false", 5);
  return false;
}

void JsonScanner::read_string(std::string& out) {
  skip_ws();
  expect('"');
  out.clear();
  scan_string(&out);
}

void JsonScanner::skip_value() {
  std::vector<char>& open = skip_stack_;  // the containers entered here: '{' or '['
  open.clear();
  for (;;) {
    // A value.
    skip_ws();
    if (p_ >= end_) fail();
    bool finished = true;  // a scalar or an empty container: look for what follows it
    switch (*p_) {
      case '{':
        ++p_;
        skip_ws();
        if (p_ < end_ && *p_ == '}') {
          ++p_;
        } else {
          open.push_back('{');
          expect('"');
          scan_string(nullptr);
          skip_ws();
          expect(':');
          finished = false;
        }
        break;
      case '[':
        ++p_;
        skip_ws();
        if (p_ < end_ && *p_ == ']') {
          ++p_;
        } else {
          open.push_back('[');
          finished = false;
        }
        break;
      case '"':
        ++p_;
        scan_string(nullptr);
        break;
      case 't': scan_literal("true", 4); break;
      case 'f': scan_literal("false", 5); break;
      case 'n': scan_literal("null", 4); break;
      default: {
        bool integer = false;
        p_ = scan_number(&integer);
      }
    }
    if (!finished) continue;
    // After a value: close containers or move to the next member / element.
    for (;;) {
      if (open.empty()) return;
      skip_ws();
      if (p_ >= end_) fail();
      const char c = *p_++;
      if (c == ',') {
        if (open.back() == '{') {
          skip_ws();
          expect('"');
          scan_string(nullptr);
          skip_ws();
          expect(':');
        }
        break;  // the next value
      }
      if ((c == '}' && open.back() == '{') || (c == ']' && open.back() == '[')) {
        open.pop_back();
        continue;
      }
      fail();
    }
  }
}

bool JsonScanner::at_end() {
  skip_ws();
  return p_ == end_ && first_.empty();
}

}  // namespace detlab::detail

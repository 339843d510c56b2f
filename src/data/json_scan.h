// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// JsonScanner: a forward-only, validating JSON reader over bytes in memory, for the readers of big files
// (COCO annotations, results) that must not build a document tree (internal to data/ and eval/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace detlab::detail {

/// Thrown by JsonScanner (and by fast paths built on it) on anything not plainly valid: invalid JSON, an
/// unexpected kind of value, a number outside what the caller reads. It carries no message: the caller falls
/// back to its checked, tree-building reader, whose one-line error names the file and the field.
struct JsonScanFailed {};

/// What this represents: a cursor over one JSON text, read in document order without building values. It
/// accepts exactly RFC 8259 as nlohmann::json's parser does (UTF-8 checked in strings, surrogate pairs, no
/// control characters, numbers by the grammar, nothing after the top-level value but whitespace), skipped
/// values included; numbers whose magnitude could overflow a double (exponent or mantissa of 300+ digits) are
/// refused as out of its scope. Nesting is unlimited (skipping is iterative). Any refusal throws JsonScanFailed.
/// Usage: begin_object(); while (next_key(k)) { if (k == "x") read_int64(); else skip_value(); } ... at_end().
/// thread safety: one thread per scanner; the bytes must outlive it.
class JsonScanner {
 public:
  enum class Kind { kObject, kArray, kString, kNumber, kBoolean, kNull };

  JsonScanner(const char* begin, const char* end);

  /// The kind of the next value (whitespace skipped); JsonScanFailed at the end of the input.
  Kind peek();
  /// Enters an object / array (the next value must be one).
  void begin_object();
  void begin_array();
  /// The next key of the innermost object, unescaped, with its ':' consumed; false (and the object left) at '}'.
  bool next_key(std::string& key);
  /// true when the innermost array has another element (the element is the next value); false (and the array
  /// left) at ']'.
  bool next_element();

  /// An integer token (no fraction, no exponent) within int64_t.
  int64_t read_int64();
  /// Any number token, correctly rounded.
  double read_double();
  bool read_bool();
  void read_string(std::string& out);
  /// Skips the next value, whatever it is, validating it.
  void skip_value();
  /// true when only whitespace remains after the top-level value.
  bool at_end();

 private:
  void skip_ws();
  [[noreturn]] static void fail() { throw JsonScanFailed{}; }
  void expect(char c);
  /// Scans a number token at p_; returns its end; checks the grammar and the magnitude limit.
  const char* scan_number(bool* is_integer);
  /// Scans a string at p_ (after the opening quote) to its closing quote; appends the unescaped text when out.
  void scan_string(std::string* out);
  void scan_literal(const char* word, size_t length);
  std::vector<char> first_;       // per container entered by begin_*: no member / element read yet
  std::vector<char> skip_stack_;  // skip_value's containers (kept to reuse its memory)
  const char* p_;
  const char* end_;
};

}  // namespace detlab::detail

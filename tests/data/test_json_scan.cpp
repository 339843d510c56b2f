// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// JsonScanner against nlohmann::json, the parser whose strictness it promises: the same texts accepted and
// refused over hand-picked edge cases and thousands of randomly mutated documents; reads by hand.
#include <catch2/catch.hpp>

#include <random>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "data/json_scan.h"

using detlab::detail::JsonScanFailed;
using detlab::detail::JsonScanner;

namespace {

bool scanner_accepts(const std::string& text) {
  JsonScanner s(text.data(), text.data() + text.size());
  try {
    s.skip_value();
    return s.at_end();
  } catch (const JsonScanFailed&) {
    return false;
  }
}

/// Texts the scanner refuses by design while nlohmann reads them: numbers with 3+ exponent digits (1e-400 is
/// 0 to nlohmann) or 300+ mantissa digits.
bool out_of_scope(const std::string& text) {
  static const std::regex big_exponent("[eE][+-]?[0-9]{3,}");
  static const std::regex long_number("[0-9]{300,}");
  return std::regex_search(text, big_exponent) || std::regex_search(text, long_number);
}

std::string random_string(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {"a", "file_name", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t",
                                                  "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9", "\xe2\x82\xac",
                                                  "\xf0\x9f\x98\x80", "x.jpg", "\x7f"};
  std::string s = "\"";
  for (int n = static_cast<int>(rng() % 5); n > 0; --n) s += pieces[rng() % pieces.size()];
  return s + "\"";
}

std::string random_number(std::mt19937& rng) {
  static const std::vector<std::string> numbers = {"0", "-0", "1", "-12", "3.25", "1e5", "-2.5E-3", "1e+2",
                                                   "123456789012345678901234567890", "0.000001", "9007199254740993",
                                                   "-9223372036854775808", "18446744073709551616", "1.5e299"};
  return numbers[rng() % numbers.size()];
}

std::string random_value(std::mt19937& rng, int depth) {
  const int kind = static_cast<int>(rng() % (depth > 3 ? 5 : 7));
  switch (kind) {
    case 0: return random_number(rng);
    case 1: return random_string(rng);
    case 2: return std::vector<std::string>{"true", "false", "null"}[rng() % 3];
    case 3: return random_number(rng);
    case 4: return random_string(rng);
    case 5: {
      std::string s = "[";
      for (int n = static_cast<int>(rng() % 4), i = 0; i < n; ++i) s += (i ? ", " : "") + random_value(rng, depth + 1);
      return s + "]";
    }
    default: {
      std::string s = "{";
      for (int n = static_cast<int>(rng() % 4), i = 0; i < n; ++i)
        s += (i ? ",\n" : "") + random_string(rng) + " : " + random_value(rng, depth + 1);
      return s + "}";
    }
  }
}

std::string mutate(std::string text, std::mt19937& rng) {
  static const std::string alphabet = "{}[]\",:0123456789-+.eE \t\nabtrufnls\\/u\x01\xc3\xa9\x80\xff\xed\xa0";
  for (int n = 1 + static_cast<int>(rng() % 3); n > 0 && !text.empty(); --n) {
    const size_t at = rng() % text.size();
    switch (rng() % 3) {
      case 0: text.erase(at, 1); break;
      case 1: text.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      default: text[at] = alphabet[rng() % alphabet.size()];
    }
  }
  return text;
}

}  // namespace

TEST_CASE("json scanner accepts and refuses what nlohmann does: edge cases", "[data][json_scan]") {
  const std::vector<std::string> texts = {
      "{}", "[]", "0", "-0", "\"\"", "true", "null", " {\"a\" : [1, 2.5e3, -0.0, {\"b\": null}]} \n",
      "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "+1", "1e", "1e+", "-", "--1",
      "[1 2]", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud83d\\ude00\"",
      "\"\x01\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc3\xa9\"",
      "\"\xc3\"", "tru", "nulll", "[true false]", "{} {}", "", "  ", "[[[[]]]]", "[[[[]]]", "\"\\u0000\"",
      "1e299", "-1e-7", "[1e5, 2E-3, 0.5]", "{\"a\":{\"b\":{\"c\":[{}]}}}"};
  for (const std::string& t : texts) {
    INFO(t);
    CHECK(scanner_accepts(t) == nlohmann::json::accept(t));
  }
  // Out of the scanner's scope by design (its callers then use their checked readers): 1e308 is a double,
  // 1e-400 is 0 to nlohmann, 1e400 is an error to both.
  for (const std::string t : {"1e308", "[1e-400]", "1e400"}) {
    INFO(t);
    CHECK_FALSE(scanner_accepts(t));
  }
}

TEST_CASE("json scanner agrees with nlohmann on randomly mutated documents", "[data][json_scan]") {
  std::mt19937 rng(20261207);
  int accepted = 0, refused = 0, scoped_out = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string text = random_value(rng, 0);
    if (i % 3 != 0) text = mutate(text, rng);
    const bool ours = scanner_accepts(text), theirs = nlohmann::json::accept(text);
    if (ours != theirs && out_of_scope(text)) {
      ++scoped_out;
      continue;
    }
    INFO(text);
    REQUIRE(ours == theirs);
    (ours ? accepted : refused)++;
  }
  CHECK(accepted > 1500);  // both outcomes are well exercised
  CHECK(refused > 1500);
  CHECK(scoped_out < 100);
}

TEST_CASE("json scanner reads fields in document order", "[data][json_scan]") {
  const std::string text =
      R"({"id": -42, "name": "caf\u00e9 \"x\"", "box": [1, 2.5, -3e2, 0.1], "flag": true, "skip": {"a": [1, {"b": 2}]},)"
      R"( "big": 9223372036854775807})";
  JsonScanner s(text.data(), text.data() + text.size());
  std::string key, name;
  s.begin_object();
  REQUIRE(s.next_key(key));
  CHECK(key == "id");
  CHECK(s.read_int64() == -42);
  REQUIRE(s.next_key(key));
  CHECK(s.peek() == JsonScanner::Kind::kString);
  s.read_string(name);
  CHECK(name == "caf\xc3\xa9 \"x\"");
  REQUIRE(s.next_key(key));
  s.begin_array();
  std::vector<double> box;
  while (s.next_element()) box.push_back(s.read_double());
  CHECK(box == std::vector<double>{1, 2.5, -300, 0.1});
  REQUIRE(s.next_key(key));
  CHECK(s.read_bool());
  REQUIRE(s.next_key(key));
  CHECK(key == "skip");
  s.skip_value();
  REQUIRE(s.next_key(key));
  CHECK(s.read_int64() == INT64_MAX);
  CHECK_FALSE(s.next_key(key));
  CHECK(s.at_end());

  const std::string wrong = R"([1.5, 9223372036854775808, "x"])";
  JsonScanner w(wrong.data(), wrong.data() + wrong.size());
  w.begin_array();
  REQUIRE(w.next_element());
  CHECK_THROWS_AS(w.read_int64(), JsonScanFailed);  // not an integer
}

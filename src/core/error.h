// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Error types and contract checks: InputError (bad user input, exit code 2) and DETLAB_REQUIRE / DETLAB_CHECK.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace detlab {

/// Bad user input: a file, a field in it, and what is wrong. The CLI prints what() on one line and exits
/// with code 2. what() reads "<file>: <field>: <message>" (parts that are empty are left out).
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string field, const std::string& message)
      : std::runtime_error(format(file, field, message)), file_(std::move(file)), field_(std::move(field)) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  static std::string format(const std::string& file, const std::string& field, const std::string& message) {
    std::string s;
    if (!file.empty()) s += file + ": ";
    if (!field.empty()) s += field + ": ";
    return s + message;
  }
  std::string file_, field_;
};

namespace detail {
inline void append_values(std::ostringstream&) {}
template <class T, class... Rest>
void append_values(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << (os.tellp() > 0 ? " " : "") << v;
  append_values(os, rest...);
}
template <class... Values>
std::string check_message(const char* kind, const char* cond, const char* file, int line, const Values&... values) {
  std::ostringstream vals;
  append_values(vals, values...);
  std::ostringstream os;
  os << kind << " failed: " << cond << " (" << file << ":" << line << ")";
  if (vals.tellp() > 0) os << ": " << vals.str();
  return os.str();
}
}  // namespace detail

}  // namespace detlab

/// Checks a `requires:` clause at an API boundary; throws std::invalid_argument printing the values.
#define DETLAB_REQUIRE(cond, ...)                                                                       \
  do {                                                                                                  \
    if (!(cond))                                                                                        \
      throw std::invalid_argument(                                                                      \
          ::detlab::detail::check_message("requirement", #cond, __FILE__, __LINE__, ##__VA_ARGS__));    \
  } while (0)

/// Checks an internal invariant; throws std::logic_error printing the values.
#define DETLAB_CHECK(cond, ...)                                                                         \
  do {                                                                                                  \
    if (!(cond))                                                                                        \
      throw std::logic_error(                                                                           \
          ::detlab::detail::check_message("check", #cond, __FILE__, __LINE__, ##__VA_ARGS__));          \
  } while (0)

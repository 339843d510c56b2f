// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checked access to nlohmann::json values for the readers (internal to data/*.cpp; not a public header).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace detlab::detail {

/// Parses a JSON file. Syntax errors (NaN and Infinity included: they are not JSON) give an InputError
/// naming the file, the nearest key before the error and its line / column.
nlohmann::json parse_json_file(const std::filesystem::path& file);

enum class JsonKind { kObject, kArray, kString, kInteger, kNumber, kBoolean };

/// obj[key], checked to be of the given kind (kNumber accepts integers too); InputError naming file and field
/// when obj is not an object, the key is missing or mistyped.
const nlohmann::json& json_get(const nlohmann::json& obj, const std::string& key, JsonKind kind,
                               const std::string& file, const std::string& field);
/// A finite number; InputError otherwise.
double json_number(const nlohmann::json& v, const std::string& file, const std::string& field);
/// A boolean flag written as true/false or 0/1.
bool json_flag(const nlohmann::json& v, const std::string& file, const std::string& field);

}  // namespace detlab::detail

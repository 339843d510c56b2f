// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Saved-model folders: a versioned header (detector.json) plus stage files, and versioned JSON stage files.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace detlab {

/// Version of the model-folder layout written by write_model_header(); readers reject any other.
constexpr int kModelFormatVersion = 1;
/// File name of the header inside a model folder.
constexpr const char* kModelHeaderFile = "detector.json";

/// What detector.json holds. Every detector family (classical and deep) saves into a folder with this
/// header and its own stage / weight files next to it.
struct ModelHeader {
  int format_version = kModelFormatVersion;
  std::string type;                      // detector registry name ("staged", "dlib_fhog", ...)
  std::string config_hash;               // Config::hash() of the detector node it was trained with
  std::vector<std::string> class_names;  // label order of the training set
  std::vector<std::string> files;        // stage / weight files, relative to the folder
  /// FNV-1a of each file's content (core/hash.h file_content_hash), written with the header and checked when
  /// it is read: a truncated, bit-flipped or replaced weight file is refused by name. Folders saved before
  /// checksums existed have none (nothing is checked).
  std::map<std::string, std::string> checksums;
};

/// Writes dir/detector.json atomically (dir is created if needed), with the checksums of header.files as they
/// are in dir now.
void write_model_header(const std::filesystem::path& dir, const ModelHeader& header);

/// Reads dir/detector.json and checks that the folder fits the detector about to load it.
/// InputError naming the file when: the folder or header is missing or malformed; format_version is not
/// kModelFormatVersion; type differs from `type`; class_names differ from `class_names` (when non-empty);
/// a listed file is missing or its content does not match its checksum. A differing config hash only prints a warning (post-processing overrides such
/// as --set detector.postprocess.nms_iou=0.5 legitimately change it).
ModelHeader read_model_header(const std::filesystem::path& dir, const std::string& type,
                              const std::vector<std::string>& class_names, const std::string& config_hash);

/// Runs write(tmp) on a fresh temporary folder inside dir, then moves every file it wrote into dir (replacing
/// files of the same name) and returns their names, sorted, for ModelHeader::files. The temporary folder is
/// removed in every case, so a failing save leaves no partial stage files behind.
std::vector<std::string> save_model_files(const std::filesystem::path& dir,
                                          const std::function<void(const std::filesystem::path&)>& write);

/// Writes {"format": kind, "format_version": version, ...body} to file atomically.
void write_versioned_json(const std::filesystem::path& file, const std::string& kind, int version,
                          nlohmann::json body);
/// Reads a file written by write_versioned_json(). InputError naming the file when it is missing or
/// malformed, holds another kind, or another version than `version`.
nlohmann::json read_versioned_json(const std::filesystem::path& file, const std::string& kind, int version);
/// Runs read(j) and turns nlohmann errors (missing key, wrong type) into an InputError naming the file.
void read_json_fields(const std::filesystem::path& file, const std::function<void()>& read);

}  // namespace detlab

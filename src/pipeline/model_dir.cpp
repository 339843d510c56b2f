// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Saved-model folders: detector.json header and versioned JSON stage files.
#include "pipeline/model_dir.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace detlab {

namespace fs = std::filesystem;

void write_model_header(const fs::path& dir, const ModelHeader& header) {
  fs::create_directories(dir);
  nlohmann::json j;
  j["format_version"] = header.format_version;
  j["type"] = header.type;
  j["config_hash"] = header.config_hash;
  j["class_names"] = header.class_names;
  j["files"] = header.files;
  nlohmann::json sums = nlohmann::json::object();
  for (const std::string& f : header.files)
    if (fs::exists(dir / f)) sums[f] = file_content_hash(dir / f);
  j["checksums"] = sums;
  write_file_atomic(dir / kModelHeaderFile, j.dump(2) + "\n");
}

ModelHeader read_model_header(const fs::path& dir, const std::string& type,
                              const std::vector<std::string>& class_names, const std::string& config_hash) {
  const fs::path file = dir / kModelHeaderFile;
  if (!fs::is_directory(dir)) throw InputError(dir.string(), "", "model folder not found");
  if (!fs::exists(file)) throw InputError(file.string(), "", "model header not found (not a model folder?)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), "", std::string("malformed JSON: ") + e.what());
  }
  ModelHeader h;
  read_json_fields(file, [&] {
    h.format_version = j.at("format_version").get<int>();
    if (h.format_version != kModelFormatVersion) return;
    h.type = j.at("type").get<std::string>();
    h.config_hash = j.at("config_hash").get<std::string>();
    h.class_names = j.at("class_names").get<std::vector<std::string>>();
    h.files = j.at("files").get<std::vector<std::string>>();
    if (j.contains("checksums")) h.checksums = j.at("checksums").get<std::map<std::string, std::string>>();
  });
  if (h.format_version != kModelFormatVersion)
    throw InputError(file.string(), "format_version",
                     "unsupported model format version " + std::to_string(h.format_version) + " (this build reads " +
                         std::to_string(kModelFormatVersion) + ")");
  if (h.type != type)
    throw InputError(file.string(), "type", "model of a '" + h.type + "' detector, config builds '" + type + "'");
  if (!class_names.empty() && h.class_names != class_names) {
    std::string a, b;
    for (const auto& n : h.class_names) a += (a.empty() ? "" : ",") + n;
    for (const auto& n : class_names) b += (b.empty() ? "" : ",") + n;
    throw InputError(file.string(), "class_names", "model classes [" + a + "] differ from the dataset's [" + b + "]");
  }
  for (const std::string& f : h.files) {
    if (!fs::exists(dir / f)) throw InputError((dir / f).string(), "", "model file listed in detector.json is missing");
    const auto sum = h.checksums.find(f);
    if (sum != h.checksums.end() && file_content_hash(dir / f) != sum->second)
      throw InputError((dir / f).string(), "",
                       "content does not match its checksum in detector.json (the file is corrupt, or was replaced "
                       "after the model was saved)");
  }
  if (!config_hash.empty() && h.config_hash != config_hash)
    std::cerr << "warning: " << file.string() << ": trained with a different detector config (hash "
              << h.config_hash << ", now " << config_hash << ")\n";
  return h;
}

std::vector<std::string> save_model_files(const fs::path& dir, const std::function<void(const fs::path&)>& write) {
  fs::create_directories(dir);
  const fs::path tmp = dir / (".saving." + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};
  write(tmp);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp)) {
    if (!e.is_regular_file()) continue;
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) fs::rename(tmp / n, dir / n);
  return names;
}

void write_versioned_json(const fs::path& file, const std::string& kind, int version, nlohmann::json body) {
  body["format"] = kind;
  body["format_version"] = version;
  write_file_atomic(file, body.dump() + "\n");
}

nlohmann::json read_versioned_json(const fs::path& file, const std::string& kind, int version) {
  if (!fs::exists(file)) throw InputError(file.string(), "", "model file not found");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(file));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), "", std::string("malformed JSON: ") + e.what());
  }
  std::string got_kind;
  int got_version = -1;
  read_json_fields(file, [&] {
    got_kind = j.at("format").get<std::string>();
    got_version = j.at("format_version").get<int>();
  });
  if (got_kind != kind) throw InputError(file.string(), "format", "holds '" + got_kind + "', expected '" + kind + "'");
  if (got_version != version)
    throw InputError(file.string(), "format_version",
                     "unsupported " + kind + " version " + std::to_string(got_version) + " (this build reads " +
                         std::to_string(version) + ")");
  return j;
}

void read_json_fields(const fs::path& file, const std::function<void()>& read) {
  try {
    read();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), "", std::string("malformed model file: ") + e.what());
  }
}

}  // namespace detlab

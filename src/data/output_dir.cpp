// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// OutputDir (temporary folder renamed when complete) and export_image.
#include "data/output_dir.h"

#include <unistd.h>

#include <system_error>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"

namespace detlab {

namespace fs = std::filesystem;

OutputDir::OutputDir(fs::path final_dir) : final_(std::move(final_dir)) {
  if (final_.filename().empty()) final_ = final_.parent_path();  // "out/" -> "out"
  if (fs::exists(final_) && !(fs::is_directory(final_) && fs::is_empty(final_)))
    throw InputError(final_.string(), "out", "output already exists and is not an empty folder");
  tmp_ = final_;
  tmp_ += ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp_, ec);  // a leftover of an earlier crashed run with the same pid
  fs::create_directories(tmp_);
}

OutputDir::~OutputDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);
}

void OutputDir::commit() {
  DETLAB_CHECK(!committed_);
  if (fs::exists(final_)) fs::remove(final_);  // an empty folder (checked in the constructor)
  fs::rename(tmp_, final_);
  committed_ = true;
}

void export_image(const Dataset& ds, size_t i, const fs::path& dest) {
  DETLAB_REQUIRE(i < ds.images.size(), i, ds.images.size());
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path());
  const bool in_memory = ds.memory_images.count(ds.images[i].name) > 0;
  if (!in_memory) {
    const fs::path src = ds.image_path(i);
    if (!fs::is_regular_file(src)) throw InputError(src.string(), "image", "file not found");
    if (src.extension() == dest.extension()) {
      fs::copy_file(src, dest, fs::copy_options::overwrite_existing);
      return;
    }
  }
  const cv::Mat pixels = ds.load_image(i);
  if (!cv::imwrite(dest.string(), pixels))
    throw std::runtime_error("cannot write image " + dest.string());
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Folder outputs that appear only when complete, and exporting a dataset's images into them.
#pragma once

#include <cstddef>
#include <filesystem>

#include "data/dataset.h"

namespace detlab {

/// A folder that is built under "<final>.tmp.<pid>" and renamed onto its final name by commit(), so that a
/// failure never leaves a half-written dataset. The destructor removes the temporary folder if commit() was
/// never called.
/// requires: the final folder does not exist or is empty (InputError naming it otherwise: an output never
/// replaces existing data).
class OutputDir {
 public:
  explicit OutputDir(std::filesystem::path final_dir);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  /// The temporary folder to write into.
  const std::filesystem::path& path() const { return tmp_; }
  const std::filesystem::path& final_path() const { return final_; }
  void commit();

 private:
  std::filesystem::path final_, tmp_;
  bool committed_ = false;
};

/// Writes image i of ds to dest: copies the source file when dest has the same extension, else decodes it
/// and encodes it in dest's format; in-memory images (synthetic data) are encoded. Parent folders are
/// created. InputError naming the source when it cannot be read.
void export_image(const Dataset& ds, size_t i, const std::filesystem::path& dest);

}  // namespace detlab

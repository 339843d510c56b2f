// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The streaming path of read_coco (internal to data/): one forward pass over the file, no document tree.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/formats.h"

namespace detlab::detail {

/// The checked reader: the whole document as a tree (nlohmann), every field checked with a one-line
/// InputError naming it, then assemble_coco (coco_raw.h); the Dataset before finish_dataset. Dropped empty
/// boxes are warned about on stderr.
Dataset read_coco_checked(const std::filesystem::path& json_file, const std::filesystem::path& image_root,
                          const ReadOptions& opts);

/*  The Dataset read_coco builds (before finish_dataset), from one forward pass of a JsonScanner over the
    memory-mapped file into a CocoRawFile: fields are read as they come, unused values (segmentation polygons,
    licenses) skipped while validated; then assemble_coco, as the checked reader (any key order).
    ensures: the same Dataset as the checked reader on every file it accepts, and nullopt on any file that is
    not plainly valid (a missing or mistyped field, an unknown or duplicate id, a flag outside 0/1, an inverted
    box, a path or size the checks refuse, a number beyond the scanner's range, invalid JSON), so that the
    checked reader then reports it. The warnings it would print (dropped empty boxes) are returned in
    `warnings`, one line each, for the caller to print only when this path is taken. */
std::optional<Dataset> read_coco_streaming(const std::filesystem::path& json_file,
                                           const std::filesystem::path& image_root, const ReadOptions& opts,
                                           std::vector<std::string>& warnings);

}  // namespace detlab::detail

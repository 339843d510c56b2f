// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files: the proposals of many images in one compact, versioned binary file.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/types.h"

namespace detlab {

/// Layout (little-endian), version 1:
///   "DLPROPS\0" (8 bytes), uint32 version, uint32 n, n bytes of UTF-8 text describing the generator (the
///   stage's config), uint32 image count, then per image: uint16 n, n bytes of image name, uint32 box count,
///   count x int16[4] (x1, y1, x2, y2) in input-image pixels, in rank order (best first).
/// 8 bytes per box: BCCD's 364 images x <= 2,000 boxes stay under 6 MB.
constexpr int kProposalFileVersion = 1;

struct ProposalFile {
  std::string source;                   // generator description (YAML of the proposal stage's node)
  std::map<std::string, Boxes> images;  // image name -> boxes in rank order
};

/// Writes atomically. Coordinates are rounded to whole pixels.
/// requires: every coordinate within [-32768, 32767]; names shorter than 65536 bytes.
void write_proposal_file(const std::filesystem::path& file, const ProposalFile& data);
/// InputError naming the file when it is missing, truncated, not a proposal file, or of another version.
ProposalFile read_proposal_file(const std::filesystem::path& file);

}  // namespace detlab

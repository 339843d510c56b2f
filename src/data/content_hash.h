// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A data set's content hash: what a cached run read, so that a changed file never reuses an old result.
#pragma once

#include <string>

#include "data/dataset.h"

namespace detlab {

/// 16 hex digits over everything a run can read from ds: class names and category ids, every image record
/// (id, name, file, size, objects with all their fields), the splits, and the pixels' source: each image
/// file's bytes, or the in-memory pixels of synthetic images. The data set's name, root and format are left
/// out, so a copied or converted folder with the same content has the same hash. Image files are hashed once
/// per process and path (size and modification time must match the cached entry).
/// InputError naming an image file that cannot be read. thread safety: may run concurrently.
std::string content_hash(const Dataset& ds);

}  // namespace detlab

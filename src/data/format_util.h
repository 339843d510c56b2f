// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Helpers shared by the format readers and writers (internal to data/): validation, class tables, numbers.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/types.h"
#include "data/dataset.h"
#include "data/formats.h"

namespace detlab::detail {

/// Validates a box read from `file` (field names the element, e.g. "object[2].bndbox"). Throws InputError
/// for non-finite or inverted coordinates; returns false (after a one-line warning on stderr) for a box with
/// zero width or height when opts.drop_empty_boxes, throws for it otherwise; true for a good box.
/// A box counts as empty when its width or height is <= min_size (0 for most formats; see voc.cpp).
bool accept_box(const Box& b, const std::string& file, const std::string& field, const ReadOptions& opts,
                float min_size = 0.f);
/// The same, with the warning appended to `warnings` (one line, newline-terminated) instead of printed.
bool accept_box(const Box& b, const std::string& file, const std::string& field, const ReadOptions& opts,
                std::vector<std::string>& warnings, float min_size = 0.f);

/// Throws InputError unless `rel` is a non-empty relative path without ".." components.
void check_relative_path(const std::string& rel, const std::string& file, const std::string& field);

/// Parses a whole string as a finite number; InputError naming file and field otherwise.
double parse_number(const std::string& text, const std::string& file, const std::string& field);
/// Parses a whole string as an integer; InputError naming file and field otherwise.
long long parse_integer(const std::string& text, const std::string& file, const std::string& field);

/// The largest image accepted, in pixels: OpenCV's decoding limit ($OPENCV_IO_MAX_IMAGE_PIXELS, default 2^30),
/// since a larger image could not be decoded anyway; raising that variable raises both.
long long max_image_pixels();
/// InputError naming file and field when a stated image size is negative, has a side above 2^20 pixels, or has
/// more than max_image_pixels() pixels (a header or annotation claiming 40,000 x 40,000).
void check_image_size(long long width, long long height, const std::string& file, const std::string& field);

/// Shortest decimal text that reads back to the same float ("174", "173.5", "0.1").
std::string format_float(float v);
/// Shortest decimal text that reads back to the same double.
std::string format_double(double v);

/// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& s);
/// Trims ASCII whitespace at both ends.
std::string trim(const std::string& s);
/// Stem of a '/'-separated file name ("JPEGImages/a.b.jpg" -> "a.b").
std::string file_stem(const std::string& file);
/// Reads a class list file: one name per line, trimmed, empty lines skipped.
std::vector<std::string> read_name_list(const std::filesystem::path& file);

/// Maps class names to labels. Fixed (from ReadOptions.classes or the format's own list) or growing in order
/// of first appearance.
class ClassTable {
 public:
  ClassTable(std::vector<std::string> names, bool fixed, bool skip_others);
  /// Label of `name`, adding it when the table grows; -1 when the object must be skipped
  /// (skip_other_classes); InputError naming file and field for an unknown class of a fixed table.
  int label(const std::string& name, const std::string& file, const std::string& field);
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, int> index_;
  bool fixed_, skip_others_;
};

/// Final checks and options shared by every reader: at least one image (InputError naming `source`),
/// unique names, category_ids defaulting to label + 1, then opts.split applied (split_file names the file
/// that would define it, for the message).
void finish_dataset(Dataset& ds, const std::filesystem::path& source, const ReadOptions& opts,
                    const std::filesystem::path& split_file = {});

/// "<name>" -> "<name>" made safe as a file name part (splits, class names): [A-Za-z0-9._-], others '_'.
std::string safe_file_part(const std::string& s);

}  // namespace detlab::detail

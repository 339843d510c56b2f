// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Image size from the file header (JPEG, PNG, BMP) without decoding the pixels.
#pragma once

#include <filesystem>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace detlab {

/// Width and height stored in the header of a JPEG (SOFn marker), PNG (IHDR) or BMP file; other formats
/// are decoded with OpenCV. Sizes are as stored: EXIF orientation is not applied (VOC / COCO tools record
/// the stored size too). InputError naming the file when it is missing, truncated or not an image.
/// ensures: width > 0 and height > 0.
cv::Size read_image_size(const std::filesystem::path& file);

/// Reference for read_image_size: decodes the whole image (cv::IMREAD_UNCHANGED, no EXIF rotation).
cv::Size read_image_size_decoded(const std::filesystem::path& file);

/// cv::imread for files from users: an empty Mat when the file cannot be decoded, also where OpenCV raises an
/// assertion on a malformed header instead (a BMP height of INT32_MIN: found by the image_header fuzz target).
cv::Mat decode_image(const std::filesystem::path& file, int flags);

}  // namespace detlab

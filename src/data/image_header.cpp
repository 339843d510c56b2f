// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Image size from JPEG / PNG / BMP headers, with a full-decode reference.
#include "data/image_header.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/format_util.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

uint32_t be16(const uint8_t* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
int32_t le32(const uint8_t* p) {
  return static_cast<int32_t>(uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24));
}

// Walks the JPEG marker segments up to the first start-of-frame; (0, 0) when it has none before the scan.
cv::Size jpeg_size(std::ifstream& in) {
  in.seekg(2);
  for (;;) {
    int c = in.get();
    if (c != 0xFF) return {};
    while (c == 0xFF) c = in.get();  // fill bytes
    if (c == EOF) return {};
    const int marker = c;
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length field
    if (marker == 0xD9 || marker == 0xDA) return {};  // end of image / start of scan before any frame header
    uint8_t len_bytes[2];
    if (!in.read(reinterpret_cast<char*>(len_bytes), 2)) return {};
    const uint32_t len = be16(len_bytes);
    if (len < 2) return {};
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      uint8_t h[5];  // precision, height, width
      if (len < 7 || !in.read(reinterpret_cast<char*>(h), 5)) return {};
      return {static_cast<int>(be16(h + 3)), static_cast<int>(be16(h + 1))};
    }
    in.seekg(len - 2, std::ios::cur);
  }
}

}  // namespace

cv::Size read_image_size(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "image", "cannot open image file");
  std::array<uint8_t, 26> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const std::streamsize got = in.gcount();
  in.clear();
  cv::Size size;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (got >= 24 && std::equal(kPng, kPng + 8, head.begin()) && std::equal(head.begin() + 12, head.begin() + 16, "IHDR")) {
    const long long width = be32(&head[16]), height = be32(&head[20]);  // up to 2^32 - 1: checked before narrowing
    detail::check_image_size(width, height, file.string(), "image");
    size = {static_cast<int>(width), static_cast<int>(height)};
  } else if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) {
    size = jpeg_size(in);
  } else if (got >= 26 && head[0] == 'B' && head[1] == 'M') {
    const int32_t header_size = le32(&head[14]);
    if (header_size == 12)  // OS/2 BITMAPCOREHEADER: 16-bit sizes
      size = {static_cast<int>(head[18] | (head[19] << 8)), static_cast<int>(head[20] | (head[21] << 8))};
    else if (header_size >= 40)  // BITMAPINFOHEADER and later; a negative height means top-down rows
      size = {le32(&head[18]), le32(&head[22]) == INT32_MIN ? 0 : std::abs(le32(&head[22]))};
  }
  if (size.width > 0 && size.height > 0) {
    detail::check_image_size(size.width, size.height, file.string(), "image");
    return size;
  }
  return read_image_size_decoded(file);  // other formats, or a header this parser does not understand
}

cv::Size read_image_size_decoded(const fs::path& file) {
  std::error_code ec;  // a path the OS refuses (too long, ...) is "not found" too, not a filesystem_error
  if (!fs::is_regular_file(file, ec)) throw InputError(file.string(), "image", "file not found");
  const cv::Mat m = decode_image(file, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw InputError(file.string(), "image", "cannot decode image (unreadable or corrupt)");
  return m.size();
}

cv::Mat decode_image(const fs::path& file, int flags) {
  try {
    return cv::imread(file.string(), flags);
  } catch (const cv::Exception&) {
    return cv::Mat();
  }
}

}  // namespace detlab

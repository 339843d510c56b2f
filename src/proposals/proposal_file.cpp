// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files: reader and writer.
#include "proposals/proposal_file.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"

namespace detlab {

namespace {

constexpr char kMagic[8] = {'D', 'L', 'P', 'R', 'O', 'P', 'S', '\0'};

template <class T>
void put(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

class Reader {
 public:
  Reader(const std::string& data, std::string file) : data_(data), file_(std::move(file)) {}
  template <class T>
  T get() {
    need(sizeof(T));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }
  std::string bytes(size_t n) {
    need(n);
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  void need(size_t n) {
    if (pos_ + n > data_.size()) throw InputError(file_, "", "truncated proposal file");
  }
  const std::string& data_;
  std::string file_;
  size_t pos_ = 0;
};

int16_t to_int16(float v, const std::string& name) {
  const long r = std::lround(v);
  DETLAB_REQUIRE(r >= std::numeric_limits<int16_t>::min() && r <= std::numeric_limits<int16_t>::max(),
                 "proposal coordinate does not fit int16", name, v);
  return static_cast<int16_t>(r);
}

}  // namespace

void write_proposal_file(const std::filesystem::path& file, const ProposalFile& data) {
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, kProposalFileVersion);
  put<uint32_t>(out, static_cast<uint32_t>(data.source.size()));
  out += data.source;
  put<uint32_t>(out, static_cast<uint32_t>(data.images.size()));
  for (const auto& [name, boxes] : data.images) {
    DETLAB_REQUIRE(name.size() < 65536, "image name too long", name.size());
    put<uint16_t>(out, static_cast<uint16_t>(name.size()));
    out += name;
    put<uint32_t>(out, static_cast<uint32_t>(boxes.size()));
    for (const Box& b : boxes)
      for (float v : {b.x1, b.y1, b.x2, b.y2}) put<uint16_t>(out, static_cast<uint16_t>(to_int16(v, name)));
  }
  write_file_atomic(file, out);
}

ProposalFile read_proposal_file(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw InputError(file.string(), "", "proposal file not found");
  const std::string data = read_file(file);
  Reader r(data, file.string());
  if (data.size() < sizeof kMagic || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    throw InputError(file.string(), "", "not a detlab proposal file (bad magic)");
  r.bytes(sizeof kMagic);
  const uint32_t version = r.get<uint32_t>();
  if (version != kProposalFileVersion)
    throw InputError(file.string(), "version",
                     "unsupported proposal file version " + std::to_string(version) + " (this build reads " +
                         std::to_string(kProposalFileVersion) + ")");
  ProposalFile out;
  out.source = r.bytes(r.get<uint32_t>());
  const uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n; ++i) {
    std::string name = r.bytes(r.get<uint16_t>());
    const uint32_t count = r.get<uint32_t>();
    Boxes boxes;
    boxes.reserve(count);
    for (uint32_t k = 0; k < count; ++k) {
      Box b;
      b.x1 = static_cast<int16_t>(r.get<uint16_t>());
      b.y1 = static_cast<int16_t>(r.get<uint16_t>());
      b.x2 = static_cast<int16_t>(r.get<uint16_t>());
      b.y2 = static_cast<int16_t>(r.get<uint16_t>());
      boxes.push_back(b);
    }
    out.images[std::move(name)] = std::move(boxes);
  }
  if (!r.at_end()) throw InputError(file.string(), "", "trailing bytes after the last image");
  return out;
}

}  // namespace detlab

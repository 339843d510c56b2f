// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files: ProposalCache (per-image reads of a mapped file), ProposalFileWriter (incremental,
// resumable writes through a partial file), and the whole-file helpers over them.
#include "proposals/proposal_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <stdexcept>

#include "core/error.h"
#include "core/write_error.h"
#include "core/hash.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'D', 'L', 'P', 'R', 'O', 'P', 'S', '\0'};
constexpr char kEndMagic[8] = {'D', 'L', 'P', 'R', 'E', 'N', 'D', '\0'};
constexpr size_t kFooterSize = 16;

template <class T>
void put(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<unsigned char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

template <class T>
T get(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

uint64_t checksum(const char* begin, const char* end) {
  return Fnv1a().update(begin, static_cast<size_t>(end - begin)).value();
}

void put_checksum(std::string& out, size_t from) {
  put<uint64_t>(out, checksum(out.data() + from, out.data() + out.size()));
}

int16_t to_int16(float v, const std::string& name) {
  const long r = std::lround(v);
  DETLAB_REQUIRE(r >= std::numeric_limits<int16_t>::min() && r <= std::numeric_limits<int16_t>::max(),
                 "proposal coordinate does not fit int16", name, v);
  return static_cast<int16_t>(r);
}

std::string encode_header(const std::string& source) {
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, kProposalFileVersion);
  put<uint32_t>(out, static_cast<uint32_t>(source.size()));
  out += source;
  put_checksum(out, 0);
  return out;
}

std::string encode_record(const std::string& name, const Boxes& boxes) {
  DETLAB_REQUIRE(name.size() < 65536, "image name too long", name.size());
  std::string out;
  out.reserve(2 + name.size() + 4 + 8 * boxes.size() + 8);
  put<uint16_t>(out, static_cast<uint16_t>(name.size()));
  out += name;
  put<uint32_t>(out, static_cast<uint32_t>(boxes.size()));
  for (const Box& b : boxes)
    for (float v : {b.x1, b.y1, b.x2, b.y2}) put<uint16_t>(out, static_cast<uint16_t>(to_int16(v, name)));
  put_checksum(out, 0);
  return out;
}

/// Bounds-checked reads over [p, end): `ok` turns false instead of reading past the end.
struct Cursor {
  const char* p;
  const char* end;
  bool ok = true;
  template <class T>
  T take() {
    if (!ok || static_cast<size_t>(end - p) < sizeof(T)) {
      ok = false;
      return T{};
    }
    const T v = get<T>(p);
    p += sizeof(T);
    return v;
  }
  std::string bytes(size_t n) {
    if (!ok || static_cast<size_t>(end - p) < n) {
      ok = false;
      return {};
    }
    std::string s(p, n);
    p += n;
    return s;
  }
};

/// One version-2 record at `at` (within [base, limit)); false when it is truncated or its checksum does not
/// match. On success `next` is the record's end.
bool decode_record(const char* at, const char* limit, std::string* name, Boxes* boxes, const char** next) {
  Cursor c{at, limit};
  *name = c.bytes(c.take<uint16_t>());
  const uint32_t count = c.take<uint32_t>();
  if (!c.ok || static_cast<uint64_t>(limit - c.p) < static_cast<uint64_t>(count) * 8 + 8) return false;
  const char* box_bytes = c.p;
  c.p += static_cast<size_t>(count) * 8;
  const uint64_t stored = c.take<uint64_t>();
  if (!c.ok || stored != checksum(at, c.p - 8)) return false;
  if (boxes) {
    boxes->resize(count);
    for (uint32_t k = 0; k < count; ++k) {
      const char* q = box_bytes + 8 * k;
      (*boxes)[k] = Box{static_cast<float>(static_cast<int16_t>(get<uint16_t>(q))),
                        static_cast<float>(static_cast<int16_t>(get<uint16_t>(q + 2))),
                        static_cast<float>(static_cast<int16_t>(get<uint16_t>(q + 4))),
                        static_cast<float>(static_cast<int16_t>(get<uint16_t>(q + 6)))};
    }
  }
  *next = c.p;
  return true;
}

/// The header of a version-2 file: its source and the offset of the first record; false when it is not one.
bool decode_header(const char* begin, const char* end, std::string* source, size_t* header_end) {
  Cursor c{begin, end};
  const std::string magic = c.bytes(sizeof kMagic);
  const uint32_t version = c.take<uint32_t>();
  *source = c.bytes(c.take<uint32_t>());
  const char* body_end = c.p;
  const uint64_t stored = c.take<uint64_t>();
  if (!c.ok || std::memcmp(magic.data(), kMagic, sizeof kMagic) != 0 || version != 2) return false;
  if (stored != checksum(begin, body_end)) return false;
  *header_end = static_cast<size_t>(c.p - begin);
  return true;
}

}  // namespace

ProposalCache::ProposalCache(const fs::path& file) : file_(file) {
  const std::string f = file.string();
  if (!fs::exists(file)) throw InputError(f, "", "proposal file not found");
  bytes_ = std::make_unique<MappedFile>(file);
  const char* begin = bytes_->begin();
  const char* end = bytes_->end();
  if (bytes_->size() < sizeof kMagic || std::memcmp(begin, kMagic, sizeof kMagic) != 0)
    throw InputError(f, "", "not a detlab proposal file (bad magic)");
  Cursor c{begin + sizeof kMagic, end};
  version_ = static_cast<int>(c.take<uint32_t>());
  if (!c.ok) throw InputError(f, "", "truncated proposal file");
  if (version_ == 1) {  // no index, no checksums: read whole
    source_ = c.bytes(c.take<uint32_t>());
    const uint32_t n = c.take<uint32_t>();
    for (uint32_t i = 0; i < n && c.ok; ++i) {
      std::string name = c.bytes(c.take<uint16_t>());
      const uint32_t count = c.take<uint32_t>();
      Boxes boxes;
      for (uint32_t k = 0; k < count && c.ok; ++k) {
        const auto x1 = static_cast<int16_t>(c.take<uint16_t>()), y1 = static_cast<int16_t>(c.take<uint16_t>());
        const auto x2 = static_cast<int16_t>(c.take<uint16_t>()), y2 = static_cast<int16_t>(c.take<uint16_t>());
        boxes.push_back(Box{static_cast<float>(x1), static_cast<float>(y1), static_cast<float>(x2), static_cast<float>(y2)});
      }
      if (!c.ok) break;
      // One record per image: names() places each at its order, so a repeated name would leave a hole.
      if (!index_.emplace(name, Entry{0, count, i}).second)
        throw InputError(f, name, "duplicate image name (the file is corrupt)");
      loaded_[name] = std::move(boxes);
    }
    if (!c.ok) throw InputError(f, "", "truncated proposal file");
    if (c.p != end) throw InputError(f, "", "trailing bytes after the last image");
    bytes_.reset();
    return;
  }
  if (version_ != kProposalFileVersion)
    throw InputError(f, "version",
                     "unsupported proposal file version " + std::to_string(version_) + " (this build reads 1 and " +
                         std::to_string(kProposalFileVersion) + ")");
  size_t header_end = 0;
  if (!decode_header(begin, end, &source_, &header_end)) {
    Cursor h{begin + sizeof kMagic + 4, end};
    h.bytes(h.take<uint32_t>());
    h.take<uint64_t>();
    throw InputError(f, "header", h.ok ? "checksum mismatch (the file is corrupt)" : "truncated proposal file");
  }
  if (bytes_->size() < header_end + kFooterSize ||
      std::memcmp(end - sizeof kEndMagic, kEndMagic, sizeof kEndMagic) != 0)
    throw InputError(f, "", "truncated proposal file (no index: it was not written to the end)");
  const uint64_t index_offset = get<uint64_t>(end - kFooterSize);
  if (index_offset < header_end || index_offset > bytes_->size() - kFooterSize)
    throw InputError(f, "index", "index offset out of range (the file is corrupt)");
  const char* index_begin = begin + index_offset;
  const char* index_limit = end - kFooterSize;
  Cursor ix{index_begin, index_limit};
  const uint32_t n = ix.take<uint32_t>();
  std::vector<std::pair<std::string, Entry>> entries;
  for (uint32_t i = 0; i < n && ix.ok; ++i) {
    std::string name = ix.bytes(ix.take<uint16_t>());
    Entry e;
    e.offset = ix.take<uint64_t>();
    e.count = ix.take<uint32_t>();
    e.order = i;
    entries.emplace_back(std::move(name), e);
  }
  const char* index_body_end = ix.p;
  const uint64_t stored = ix.take<uint64_t>();
  if (!ix.ok || ix.p != index_limit || stored != checksum(index_begin, index_body_end))
    throw InputError(f, "index", "checksum mismatch (the file is corrupt)");
  for (auto& [name, e] : entries) {
    // A record is at least 2 + name + 4 + 8 x count + 8 bytes and lies between the header and the index.
    const uint64_t size = 2 + name.size() + 4 + 8ull * e.count + 8;
    if (e.offset < header_end || e.offset > index_offset || size > index_offset - e.offset)
      throw InputError(f, name, "index entry out of range (the file is corrupt)");
    const std::string key = name;
    if (!index_.emplace(std::move(name), e).second)
      throw InputError(f, key, "duplicate image name in the index (the file is corrupt)");
  }
  bytes_->advise_random();
}

std::vector<std::string> ProposalCache::names() const {
  std::vector<std::string> out(index_.size());
  for (const auto& [name, e] : index_) out[e.order] = name;
  return out;
}

std::optional<Boxes> ProposalCache::boxes(const std::string& name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  if (!bytes_) return loaded_.at(name);
  std::string stored_name;
  Boxes out;
  const char* next = nullptr;
  const char* limit = bytes_->end() - kFooterSize;
  if (!decode_record(bytes_->begin() + it->second.offset, limit, &stored_name, &out, &next) || stored_name != name ||
      out.size() != it->second.count)
    throw InputError(file_.string(), name, "record checksum mismatch (the file is corrupt)");
  return out;
}

ProposalFileWriter::ProposalFileWriter(const fs::path& file, const std::string& source, bool resume)
    : file_(file), partial_(fs::path(file.string() + ".partial")) {
  if (file_.has_parent_path()) fs::create_directories(file_.parent_path());
  uint64_t keep = 0;
  if (resume && fs::exists(partial_)) {
    try {
      auto previous = std::make_unique<MappedFile>(partial_);
      std::string old_source;
      size_t header_end = 0;
      if (decode_header(previous->begin(), previous->end(), &old_source, &header_end) && old_source == source) {
        const char* p = previous->begin() + header_end;
        std::string name;
        const char* next = nullptr;
        while (p < previous->end() && decode_record(p, previous->end(), &name, nullptr, &next)) {
          if (position_.count(name)) break;  // not written by a writer: stop trusting the file here
          position_.emplace(name, entries_.size());
          entries_.push_back({name, static_cast<uint64_t>(p - previous->begin()),
                              get<uint32_t>(p + 2 + name.size())});
          p = next;
        }
        keep = static_cast<uint64_t>(p - previous->begin());
        resumed_ = entries_.size();
        resumed_end_ = keep;
        previous_ = std::move(previous);
        std::cerr << "resuming " << partial_.string() << ": " << resumed_ << " images already written\n";
      } else {
        std::cerr << "starting " << partial_.string() << " afresh (it holds another stage's proposals)\n";
      }
    } catch (const InputError&) {
      std::cerr << "starting " << partial_.string() << " afresh (it cannot be read)\n";
    }
  }
  fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_write_error(partial_, errno);
  if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0 || ::lseek(fd_, static_cast<off_t>(keep), SEEK_SET) < 0)
    throw_write_error(partial_, errno);
  size_ = keep;
  if (keep == 0) {
    entries_.clear();
    position_.clear();
    resumed_ = 0;
    previous_.reset();
    write_all(encode_header(source));
  }
}

ProposalFileWriter::~ProposalFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void ProposalFileWriter::write_all(const std::string& bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_write_error(partial_, n < 0 ? errno : ENOSPC);
    p += n;
    left -= static_cast<size_t>(n);
  }
  size_ += bytes.size();
}

bool ProposalFileWriter::done(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return position_.count(name) > 0;
}

std::optional<Boxes> ProposalFileWriter::resumed_boxes(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = position_.find(name);
  if (it == position_.end() || it->second >= resumed_) return std::nullopt;
  std::string stored;
  Boxes boxes;
  const char* next = nullptr;
  const char* at = previous_->begin() + entries_[it->second].offset;
  DETLAB_CHECK(decode_record(at, previous_->begin() + resumed_end_, &stored, &boxes, &next), "resumed record", name);
  return boxes;
}

void ProposalFileWriter::add(const std::string& name, const Boxes& boxes) {
  const std::string record = encode_record(name, boxes);
  std::lock_guard<std::mutex> lock(mutex_);
  DETLAB_REQUIRE(!finished_ && fd_ >= 0, "add() after finish()", name);
  DETLAB_REQUIRE(!position_.count(name), "image written twice", name);
  const uint64_t offset = size_;
  write_all(record);
  position_.emplace(name, entries_.size());
  entries_.push_back({name, offset, static_cast<uint32_t>(boxes.size())});
}

void ProposalFileWriter::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  DETLAB_REQUIRE(!finished_ && fd_ >= 0, "finish() called twice");
  std::string index;
  put<uint32_t>(index, static_cast<uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    put<uint16_t>(index, static_cast<uint16_t>(e.name.size()));
    index += e.name;
    put<uint64_t>(index, e.offset);
    put<uint32_t>(index, e.count);
  }
  put_checksum(index, 0);
  put<uint64_t>(index, size_);
  index.append(kEndMagic, sizeof kEndMagic);
  write_all(index);
  if (::fsync(fd_) != 0) throw_write_error(partial_, errno);
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  fs::rename(partial_, file_, ec);
  if (ec) throw std::filesystem::filesystem_error("cannot rename onto " + file_.string(), partial_, ec);
  const fs::path dir = file_.has_parent_path() ? file_.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);  // the rename itself survives a power loss
    ::close(dfd);
  }
  finished_ = true;
}

void write_proposal_file(const fs::path& file, const ProposalFile& data) {
  ProposalFileWriter w(file, data.source, /*resume=*/false);
  for (const auto& [name, boxes] : data.images) w.add(name, boxes);
  w.finish();
}

ProposalFile read_proposal_file(const fs::path& file) {
  const ProposalCache cache(file);
  ProposalFile out;
  out.source = cache.source();
  for (const std::string& name : cache.names()) out.images[name] = *cache.boxes(name);
  return out;
}

}  // namespace detlab

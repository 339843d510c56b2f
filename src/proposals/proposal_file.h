// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal cache files: the proposals of many images in one compact, versioned, checksummed binary file, read
// per image from a memory map and written incrementally (resumable after a kill).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"
#include "core/types.h"

namespace detlab {

/// Layout (little-endian), version 2 (version 1 files, without records' checksums and index, are still read):
///   header   "DLPROPS\0", uint32 version, uint32 n, n bytes of UTF-8 text describing the generator (the stage's
///            config), uint64 FNV-1a of the header's bytes before it
///   records  per image, in the order written: uint16 n, n bytes of image name, uint32 box count, count x
///            int16[4] (x1, y1, x2, y2) in input-image pixels in rank order (best first), uint64 FNV-1a of the
///            record's bytes before it
///   index    uint32 image count, per image: uint16 n, name, uint64 record offset, uint32 box count; uint64
///            FNV-1a of the index's bytes before it
///   footer   uint64 index offset, "DLPREND\0"
/// 8 bytes per box: COCO train2017 x 2,000 boxes is ~1.9 GB; BCCD's 364 images x <= 2,000 boxes under 6 MB.
constexpr int kProposalFileVersion = 2;

/// A whole proposal file in memory (small files, tests).
struct ProposalFile {
  std::string source;                   // generator description (YAML of the proposal stage's node)
  std::map<std::string, Boxes> images;  // image name -> boxes in rank order
};

/// Writes atomically (ProposalFileWriter without resuming). Coordinates are rounded to whole pixels.
/// requires: every coordinate within [-32768, 32767]; names shorter than 65536 bytes.
void write_proposal_file(const std::filesystem::path& file, const ProposalFile& data);
/// Reads every image (ProposalCache). InputError as ProposalCache's.
ProposalFile read_proposal_file(const std::filesystem::path& file);

/// What this represents: one proposal file opened for per-image reads. Version 2 is memory-mapped: opening
/// reads the header, footer and index (checked against their checksums), and boxes(name) reads one record,
/// checked against its own, so a 2 GB cache costs its index in memory and a page fault or two per image.
/// Version 1 files are read whole. InputError naming the file for: a missing file, a file that is not a proposal
/// file, another version, a truncated file, a checksum that does not match (naming the image for a record).
/// thread safety: boxes() may be called concurrently.
class ProposalCache {
 public:
  explicit ProposalCache(const std::filesystem::path& file);

  const std::string& source() const { return source_; }
  int version() const { return version_; }
  size_t size() const { return index_.size(); }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  /// The names, in the order of the records in the file.
  std::vector<std::string> names() const;
  /// The image's boxes in rank order; nullopt when the file does not hold it.
  std::optional<Boxes> boxes(const std::string& name) const;

 private:
  struct Entry {
    uint64_t offset = 0;  // of the record (version 2)
    uint32_t count = 0;
    size_t order = 0;     // position in the file
  };
  std::filesystem::path file_;
  std::string source_;
  int version_ = 0;
  std::unique_ptr<MappedFile> bytes_;                 // version 2
  std::unordered_map<std::string, Entry> index_;
  std::unordered_map<std::string, Boxes> loaded_;     // version 1
};

/// What this represents: a proposal file being written one image at a time, through "<file>.partial". Each
/// add() appends one checksummed record and flushes it, so a killed run loses at most the image being written;
/// with `resume`, a partial file of the same source left by such a run is continued: its intact records are
/// kept (a torn last record is cut off) and done() reports their images. finish() appends the index and the
/// footer, syncs, and renames onto `file` (a reader never sees a partial file under that name). A writer
/// destroyed before finish() leaves the partial file for a later resume.
/// thread safety: add(), done() and resumed_boxes() may be called concurrently.
class ProposalFileWriter {
 public:
  /// A partial file with another source, or an unreadable one, is started afresh (said on stderr).
  ProposalFileWriter(const std::filesystem::path& file, const std::string& source, bool resume = true);
  ~ProposalFileWriter();
  ProposalFileWriter(const ProposalFileWriter&) = delete;
  ProposalFileWriter& operator=(const ProposalFileWriter&) = delete;

  /// Records kept from the previous run.
  size_t resumed() const { return resumed_; }
  bool done(const std::string& name) const;
  /// The boxes of an image kept from the previous run (nullopt for others).
  std::optional<Boxes> resumed_boxes(const std::string& name) const;
  /// requires: name not done(); coordinates within int16; name shorter than 65536 bytes. Throws
  /// std::runtime_error naming the partial file when the write fails (a full disk).
  void add(const std::string& name, const Boxes& boxes);
  /// requires: called once. Throws std::runtime_error naming the file on an I/O failure (the partial file
  /// stays).
  void finish();

  const std::filesystem::path& partial_path() const { return partial_; }

 private:
  struct Entry {
    std::string name;
    uint64_t offset;
    uint32_t count;
  };
  void write_all(const std::string& bytes);
  std::filesystem::path file_, partial_;
  int fd_ = -1;
  uint64_t size_ = 0;
  size_t resumed_ = 0;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> position_;  // name -> index into entries_
  std::unique_ptr<MappedFile> previous_;  // the resumed partial file, for resumed_boxes()
  uint64_t resumed_end_ = 0;              // its intact bytes
  bool finished_ = false;
  mutable std::mutex mutex_;
};

}  // namespace detlab

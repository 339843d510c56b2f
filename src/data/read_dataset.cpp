// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Format detection, read_dataset (any format) and write_dataset (self-contained folder in any format).
#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/progress.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/output_dir.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

const char* const kFormats = "voc, coco, yolo, dlib";

// True when the XML file's root element is <dataset> (dlib imglab); reads only the first few KB.
bool is_dlib_xml(const fs::path& file) {
  std::ifstream in(file);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head.find("<dataset>") != std::string::npos || head.find("<dataset ") != std::string::npos;
}

std::vector<fs::path> files_with(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool has_yolo_labels(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && (n == "labels" || (n.rfind("obj_", 0) == 0 && n.size() > 9 && n.substr(n.size() - 5) == "_data")))
      return true;
  }
  return false;
}

std::vector<fs::path> coco_candidates(const fs::path& dir) {
  std::vector<fs::path> out = files_with(dir, ".json");
  for (const fs::path& p : files_with(dir / "annotations", ".json")) out.push_back(p);
  out.erase(std::remove_if(out.begin(), out.end(), [](const fs::path& p) { return p.filename() == "detlab.json"; }),
            out.end());
  return out;
}

std::vector<fs::path> dlib_candidates(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const fs::path& p : files_with(dir, ".xml"))
    if (is_dlib_xml(p)) out.push_back(p);
  return out;
}

std::string list_paths(const std::vector<fs::path>& paths) {
  std::string s;
  for (const fs::path& p : paths) s += (s.empty() ? "" : ", ") + p.filename().string();
  return s;
}

fs::path single(const std::vector<fs::path>& candidates, const fs::path& dir, const std::string& what) {
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) throw InputError(dir.string(), "path", "no " + what + " file in this folder");
  throw InputError(dir.string(), "path", "several " + what + " files (" + list_paths(candidates) + "): name one");
}

}  // namespace

std::string detect_format(const fs::path& path) {
  if (!fs::exists(path)) throw InputError(path.string(), "path", "not found");
  if (fs::is_regular_file(path)) {
    const std::string ext = path.extension().string();
    if (ext == ".json") return "coco";
    if (ext == ".xml" && is_dlib_xml(path)) return "dlib";
    if (ext == ".data" || ext == ".names") return "yolo";
    throw InputError(path.string(), "format", std::string("cannot tell the dataset format of this file (") + kFormats + ")");
  }
  if (fs::is_directory(path / "Annotations")) return "voc";
  if (fs::is_regular_file(path / "obj.names") || fs::is_regular_file(path / "obj.data") ||
      (fs::is_regular_file(path / "classes.txt") && has_yolo_labels(path)))
    return "yolo";
  const std::vector<fs::path> coco = coco_candidates(path), dlib = dlib_candidates(path);
  if (coco.size() == 1 && dlib.empty()) return "coco";
  if (dlib.size() == 1 && coco.empty()) return "dlib";
  if (coco.size() + dlib.size() > 1)
    throw InputError(path.string(), "format", "several annotation files (" + list_paths(coco) +
                                                  (coco.empty() || dlib.empty() ? "" : ", ") + list_paths(dlib) +
                                                  "): name one");
  throw InputError(path.string(), "format",
                   "cannot detect the dataset format (no Annotations/, obj.names, .json or dlib .xml); use --format");
}

fs::path resolve_dataset_path(const fs::path& path, const std::string& format) {
  if (format == "coco") return fs::is_directory(path) ? single(coco_candidates(path), path, "COCO .json") : path;
  if (format == "dlib") return fs::is_directory(path) ? single(dlib_candidates(path), path, "dlib .xml") : path;
  if (format == "yolo" && fs::is_regular_file(path)) return path.has_parent_path() ? path.parent_path() : ".";
  return path;
}

Dataset read_dataset(const fs::path& path, const std::string& format, const ReadOptions& opts) {
  const std::string fmt = format == "auto" ? detect_format(path) : format;
  if (!fs::exists(path)) throw InputError(path.string(), "path", "not found");
  const fs::path p = resolve_dataset_path(path, fmt);
  if (fmt == "voc") return read_voc(p, opts);
  if (fmt == "coco") return read_coco(p, opts.image_root, opts);
  if (fmt == "yolo") return read_yolo(p, opts);
  if (fmt == "dlib") return read_dlib_xml(p, opts);
  throw InputError("", "format", "unknown dataset format '" + format + "' (auto, " + kFormats + ")");
}

void write_dataset(const Dataset& ds, const fs::path& out_dir, const std::string& format) {
  if (format == "voc") return write_voc(ds, out_dir);
  if (format == "yolo") return write_yolo(ds, out_dir);
  if (format != "coco" && format != "dlib")
    throw InputError("", "format", "unknown dataset format '" + format + "' (" + kFormats + ")");
  // COCO and dlib files name images relative to their own folder: copy the images beside the file.
  OutputDir out(out_dir);
  Dataset copy = ds;
  copy.root = out.path();
  copy.memory_images.clear();
  ProgressBar bar("copy images", static_cast<int64_t>(ds.images.size()), "img");
  for (size_t i = 0; i < ds.images.size(); ++i) {
    ImageRecord& r = copy.images[i];
    if (r.file.empty() || (ds.memory_images.count(r.name) && fs::path(r.file).extension() != ".png"))
      r.file = "images/" + r.name + ".png";
    export_image(ds, i, out.path() / r.file);
    bar.tick();
  }
  bar.finish();
  if (format == "coco")
    write_coco(copy, out.path() / "annotations.json");
  else
    write_dlib_xml(copy, out.path() / "dataset.xml");
  out.commit();
}

}  // namespace detlab

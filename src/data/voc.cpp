// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Pascal VOC folders: Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt (read and write).
#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <opencv2/core.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/write_error.h"
#include "core/progress.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/image_header.h"
#include "data/output_dir.h"
#include "data/xml_file.h"

namespace detlab {

namespace fs = std::filesystem;
namespace pt = boost::property_tree;
using detail::parse_integer;
using detail::parse_number;
using detail::trim;

namespace {

// labelImg (which made BCCD) writes a click without a drag as xmin == xmax. In VOC's inclusive 1-based
// convention that is a one-pixel box, but it is an annotation slip with nothing to learn from, so VOC boxes
// count as empty when they cover at most one pixel column or row (continuous width or height <= 1).
constexpr float kVocMinSize = 1.f;
// About 0.3 s of parsing (BCCD's 364 files take 0.05 s); smaller folders need no progress bar.
constexpr size_t kBarMinFiles = 2000;

std::string text_of(const pt::ptree& node, const std::string& key, const std::string& file,
                    const std::string& field) {
  auto child = node.get_child_optional(key);
  if (!child) throw InputError(file, field, "missing");
  return trim(child->data());
}

ImageRecord read_annotation(const fs::path& xml, detail::ClassTable& classes, const ReadOptions& opts) {
  const std::string f = xml.string();
  const pt::ptree tree = detail::read_xml_file(xml);
  auto ann = tree.get_child_optional("annotation");
  if (!ann) throw InputError(f, "annotation", "missing <annotation> root element");
  ImageRecord rec;
  rec.name = xml.stem().string();
  std::string filename = trim(ann->get<std::string>("filename", ""));
  if (filename.empty()) filename = rec.name + ".jpg";  // VOC's own naming when <filename> is absent
  detail::check_relative_path(filename, f, "filename");
  rec.file = "JPEGImages/" + filename;  // <path> is the annotator's machine path: ignored
  if (auto size = ann->get_child_optional("size")) {
    const long long width = parse_integer(size->get<std::string>("width", "0"), f, "size.width");
    const long long height = parse_integer(size->get<std::string>("height", "0"), f, "size.height");
    detail::check_image_size(width, height, f, "size");
    rec.width = static_cast<int>(width);
    rec.height = static_cast<int>(height);
  }
  int k = -1;
  for (const auto& [key, obj] : *ann) {
    if (key != "object") continue;
    ++k;
    const std::string field = "object[" + std::to_string(k) + "]";
    const std::string name = text_of(obj, "name", f, field + ".name");
    auto bnd = obj.get_child_optional("bndbox");
    if (!bnd) throw InputError(f, field + ".bndbox", "missing");
    auto coord = [&](const char* c) {
      return parse_number(text_of(*bnd, c, f, field + ".bndbox." + c), f, field + ".bndbox." + c);
    };
    Object o;
    // 1-based inclusive pixel indices -> continuous coordinates: pixel i covers [i - 1, i).
    o.box = Box{static_cast<float>(coord("xmin") - 1), static_cast<float>(coord("ymin") - 1),
                static_cast<float>(coord("xmax")), static_cast<float>(coord("ymax"))};
    o.difficult = parse_integer(obj.get<std::string>("difficult", "0"), f, field + ".difficult") != 0;
    if (!detail::accept_box(o.box, f, field + ".bndbox", opts, kVocMinSize)) continue;
    o.label = classes.label(name, f, field + ".name");
    if (o.label < 0) continue;
    rec.objects.push_back(o);
  }
  return rec;
}

// ImageSets/Main/<split>.txt: one image id per line. Per-class lists ("<class>_<split>.txt", lines
// "<id> <-1|0|1>") live in the same folder and are skipped.
void read_splits(const fs::path& root, Dataset& ds) {
  const fs::path dir = root / "ImageSets" / "Main";
  if (!fs::is_directory(dir)) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::map<std::string, int> by_name;
  for (size_t i = 0; i < ds.images.size(); ++i) by_name[ds.images[i].name] = static_cast<int>(i);
  for (const fs::path& file : files) {
    const std::string split = file.stem().string();
    const size_t us = split.rfind('_');
    if (us != std::string::npos &&
        std::count(ds.class_names.begin(), ds.class_names.end(), split.substr(0, us)) > 0)
      continue;
    std::ifstream in(file);
    std::vector<int> indices;
    std::string line;
    bool per_class = false;
    for (int line_no = 1; std::getline(in, line); ++line_no) {
      std::istringstream tokens(line);
      std::string id, extra;
      if (!(tokens >> id)) continue;
      if (tokens >> extra) {
        per_class = true;
        break;
      }
      auto it = by_name.find(id);
      if (it == by_name.end())
        throw InputError(file.string(), "line " + std::to_string(line_no),
                         "image '" + id + "' has no annotation file in Annotations/");
      indices.push_back(it->second);
    }
    if (per_class) continue;
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    ds.splits[split] = std::move(indices);
  }
}

void write_annotation(std::ostream& os, const Dataset& ds, const ImageRecord& r, const std::string& filename) {
  using detail::format_float;
  using detail::xml_escape;
  os << "<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>" << xml_escape(filename) << "</filename>\n"
     << "\t<source>\n\t\t<database>" << xml_escape(ds.name) << "</database>\n\t</source>\n"
     << "\t<size>\n\t\t<width>" << r.width << "</width>\n\t\t<height>" << r.height
     << "</height>\n\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n";
  for (const Object& o : r.objects) {
    os << "\t<object>\n\t\t<name>" << xml_escape(ds.class_names.at(o.label)) << "</name>\n"
       << "\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n\t\t<difficult>" << (o.difficult ? 1 : 0)
       << "</difficult>\n\t\t<bndbox>\n"
       << "\t\t\t<xmin>" << format_float(o.box.x1 + 1) << "</xmin>\n"
       << "\t\t\t<ymin>" << format_float(o.box.y1 + 1) << "</ymin>\n"
       << "\t\t\t<xmax>" << format_float(o.box.x2) << "</xmax>\n"
       << "\t\t\t<ymax>" << format_float(o.box.y2) << "</ymax>\n"
       << "\t\t</bndbox>\n\t</object>\n";
  }
  os << "</annotation>\n";
}

}  // namespace

Dataset read_voc(const fs::path& root, const ReadOptions& opts) {
  const fs::path ann_dir = root / "Annotations";
  if (!fs::is_directory(ann_dir))
    throw InputError(root.string(), "Annotations", "not a VOC folder (no Annotations/ folder)");
  std::vector<fs::path> xmls;
  for (const auto& e : fs::directory_iterator(ann_dir))
    if (e.is_regular_file() && e.path().extension() == ".xml") xmls.push_back(e.path());
  std::sort(xmls.begin(), xmls.end());

  const fs::path classes_txt = root / "classes.txt";
  const bool own_list = opts.classes.empty() && fs::is_regular_file(classes_txt);
  detail::ClassTable classes(opts.classes.empty() ? (own_list ? detail::read_name_list(classes_txt)
                                                             : std::vector<std::string>{})
                                                  : opts.classes,
                             !opts.classes.empty() || own_list, opts.skip_other_classes);
  Dataset ds;
  ds.name = fs::absolute(root).lexically_normal().filename().string();
  if (ds.name.empty()) ds.name = fs::absolute(root).lexically_normal().parent_path().filename().string();
  ds.format = "voc";
  ds.root = root;
  std::optional<ProgressBar> bar;
  if (xmls.size() >= kBarMinFiles) bar.emplace("read voc", static_cast<int64_t>(xmls.size()), "file");
  for (size_t i = 0; i < xmls.size(); ++i) {
    if (bar) bar->tick();
    ImageRecord rec = read_annotation(xmls[i], classes, opts);
    rec.id = static_cast<int64_t>(i) + 1;  // 1-based position in the sorted annotation list
    if (rec.width <= 0 || rec.height <= 0) {  // no <size>: take it from the image header when the image exists
      const fs::path img = root / rec.file;
      if (fs::is_regular_file(img)) {
        const cv::Size s = read_image_size(img);
        rec.width = s.width;
        rec.height = s.height;
      }
    }
    ds.images.push_back(std::move(rec));
  }
  ds.class_names = classes.names();
  read_splits(root, ds);
  detail::finish_dataset(ds, ann_dir, opts, opts.split.empty() ? fs::path{} : root / "ImageSets" / "Main" / (opts.split + ".txt"));
  return ds;
}

void write_voc(const Dataset& ds, const fs::path& out_root) {
  OutputDir out(out_root);
  fs::create_directories(out.path() / "Annotations");
  fs::create_directories(out.path() / "JPEGImages");
  ProgressBar bar("write voc", static_cast<int64_t>(ds.images.size()), "img");
  for (size_t i = 0; i < ds.images.size(); ++i) {
    ImageRecord r = ds.images[i];
    const bool in_memory = ds.memory_images.count(r.name) > 0;
    const std::string ext = in_memory || r.file.empty() ? ".png" : fs::path(r.file).extension().string();
    const std::string filename = r.name + ext;
    export_image(ds, i, out.path() / "JPEGImages" / filename);
    if (r.width <= 0 || r.height <= 0) {
      const cv::Size s = read_image_size(out.path() / "JPEGImages" / filename);
      r.width = s.width;
      r.height = s.height;
    }
    std::ofstream xml(out.path() / "Annotations" / (r.name + ".xml"));
    write_annotation(xml, ds, r, filename);
    if (!xml) throw_write_error(out.final_path() / "Annotations" / (r.name + ".xml"), errno);
    bar.tick();
  }
  bar.finish();
  {
    std::ofstream classes(out.path() / "classes.txt");
    for (const std::string& c : ds.class_names) classes << c << "\n";
  }
  if (!ds.splits.empty()) {
    fs::create_directories(out.path() / "ImageSets" / "Main");
    for (const auto& [split, indices] : ds.splits) {
      std::ofstream f(out.path() / "ImageSets" / "Main" / (detail::safe_file_part(split) + ".txt"));
      for (int i : indices) f << ds.images.at(i).name << "\n";
    }
  }
  out.commit();
}

}  // namespace detlab

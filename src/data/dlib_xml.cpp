// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib imglab XML datasets (read and write); boxes are inclusive dlib rectangles (see formats.h).
#include <algorithm>
#include <cmath>
#include <fstream>

#include <boost/property_tree/ptree.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/xml_file.h"

namespace detlab {

namespace fs = std::filesystem;
namespace pt = boost::property_tree;

namespace {

// imglab's name for a box without a <label>; a single-class dataset of that name is written without labels.
const char* const kUnlabelled = "object";

struct RawBox {
  Object object;
  std::string label, field;
};

struct RawImage {
  ImageRecord record;
  std::vector<RawBox> boxes;
};

}  // namespace

Dataset read_dlib_xml(const fs::path& xml_file, const ReadOptions& opts) {
  const std::string f = xml_file.string();
  const pt::ptree tree = detail::read_xml_file(xml_file);
  auto dataset = tree.get_child_optional("dataset");
  if (!dataset) throw InputError(f, "dataset", "missing <dataset> root element (not a dlib imglab file)");
  std::vector<RawImage> raw;
  if (auto images = dataset->get_child_optional("images")) {
    int k = -1;
    for (const auto& [key, image] : *images) {
      if (key != "image") continue;
      ++k;
      const std::string field = "images.image[" + std::to_string(k) + "]";
      RawImage ri;
      ri.record.file = detail::trim(image.get<std::string>("<xmlattr>.file", ""));
      detail::check_relative_path(ri.record.file, f, field + ".file");
      ri.record.name = detail::file_stem(ri.record.file);
      const long long width = detail::parse_integer(image.get<std::string>("<xmlattr>.width", "0"), f, field + ".width");
      const long long height = detail::parse_integer(image.get<std::string>("<xmlattr>.height", "0"), f, field + ".height");
      detail::check_image_size(width, height, f, field);
      ri.record.width = static_cast<int>(width);
      ri.record.height = static_cast<int>(height);
      int b = -1;
      for (const auto& child : image) {
        if (child.first != "box") continue;
        const pt::ptree& box = child.second;  // not a structured binding: lambdas capture those only from C++20
        ++b;
        RawBox rb;
        rb.field = field + ".box[" + std::to_string(b) + "]";
        auto attr = [&](const char* name) {
          auto v = box.get_optional<std::string>(std::string("<xmlattr>.") + name);
          if (!v) throw InputError(f, rb.field + "." + name, "missing");
          return detail::parse_number(*v, f, rb.field + "." + name);
        };
        const double top = attr("top"), left = attr("left"), width = attr("width"), height = attr("height");
        // dlib rectangles are inclusive (right = left + width - 1): the pixels [left, left + width).
        rb.object.box = Box{static_cast<float>(left), static_cast<float>(top), static_cast<float>(left + width),
                            static_cast<float>(top + height)};
        rb.object.difficult = detail::parse_integer(box.get<std::string>("<xmlattr>.ignore", "0"), f, rb.field + ".ignore") != 0;
        rb.label = detail::trim(box.get<std::string>("label", ""));
        if (rb.label.empty()) rb.label = kUnlabelled;
        ri.boxes.push_back(std::move(rb));
      }
      raw.push_back(std::move(ri));
    }
  }
  std::stable_sort(raw.begin(), raw.end(), [](const RawImage& a, const RawImage& b) { return a.record.name < b.record.name; });
  detail::ClassTable classes(opts.classes, !opts.classes.empty(), opts.skip_other_classes);
  Dataset ds;
  ds.format = "dlib";
  ds.root = xml_file.has_parent_path() ? xml_file.parent_path() : fs::path(".");
  ds.name = detail::trim(dataset->get<std::string>("name", ""));
  if (ds.name.empty()) ds.name = xml_file.stem().string();
  for (size_t i = 0; i < raw.size(); ++i) {
    ImageRecord rec = std::move(raw[i].record);
    rec.id = static_cast<int64_t>(i) + 1;  // 1-based position in the images sorted by name
    for (RawBox& rb : raw[i].boxes) {
      if (!detail::accept_box(rb.object.box, f, rb.field, opts)) continue;
      rb.object.label = classes.label(rb.label, f, rb.field + ".label");
      if (rb.object.label >= 0) rec.objects.push_back(rb.object);
    }
    ds.images.push_back(std::move(rec));
  }
  ds.class_names = classes.names();
  detail::finish_dataset(ds, xml_file, opts);
  return ds;
}

void write_dlib_xml(const Dataset& ds, const fs::path& xml_file) {
  using detail::xml_escape;
  const bool labelled = !(ds.num_classes() == 1 && ds.class_names[0] == kUnlabelled);
  AtomicFile out(xml_file);
  std::ostream& os = out.stream();
  os << "<?xml version='1.0' encoding='UTF-8'?>\n"
     << "<?xml-stylesheet type='text/xsl' href='image_metadata_stylesheet.xsl'?>\n"
     << "<dataset>\n<name>" << xml_escape(ds.name) << "</name>\n<comment>Written by detlab.</comment>\n<images>\n";
  for (const ImageRecord& r : ds.images) {
    os << "  <image file='" << xml_escape(r.file) << "'";
    if (r.width > 0 && r.height > 0) os << " width='" << r.width << "' height='" << r.height << "'";
    os << ">\n";
    for (const Object& o : r.objects) {
      DETLAB_REQUIRE(o.label >= 0 && o.label < ds.num_classes(), o.label, ds.num_classes());
      // imglab stores whole pixels: round the corners, so integer boxes are written exactly.
      const long left = std::lround(o.box.x1), top = std::lround(o.box.y1);
      const long width = std::lround(o.box.x2) - left, height = std::lround(o.box.y2) - top;
      os << "    <box top='" << top << "' left='" << left << "' width='" << width << "' height='" << height << "'";
      if (o.difficult) os << " ignore='1'";
      if (labelled)
        os << ">\n      <label>" << xml_escape(ds.class_names[o.label]) << "</label>\n    </box>\n";
      else
        os << "/>\n";
    }
    os << "  </image>\n";
  }
  os << "</images>\n</dataset>\n";
  out.commit();
}

}  // namespace detlab

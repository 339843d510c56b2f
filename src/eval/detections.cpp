// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detection sets: validation, grouping by image, COCO results JSON reader and writer.
#include "eval/detections.h"

#include <charconv>
#include <cmath>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "data/json_scan.h"

namespace detlab {

namespace {

using json = nlohmann::json;

std::unordered_map<int64_t, int> image_index(const Dataset& gt) {
  std::unordered_map<int64_t, int> index;
  index.reserve(gt.images.size());
  for (size_t i = 0; i < gt.images.size(); ++i) index.emplace(gt.images[i].id, static_cast<int>(i));
  return index;
}

std::string element(size_t i, const char* field) { return "[" + std::to_string(i) + "]." + field; }

int64_t read_id(const json& obj, size_t i, const char* key, const std::string& file) {
  auto it = obj.find(key);
  if (it == obj.end()) throw InputError(file, element(i, key), "missing");
  if (!it->is_number_integer()) throw InputError(file, element(i, key), "expected an integer, got " + it->dump());
  return it->get<int64_t>();
}

double read_number(const json& v, const std::string& file, const std::string& field) {
  if (!v.is_number()) throw InputError(file, field, "expected a number, got " + v.dump());
  const double d = v.get<double>();
  if (!std::isfinite(d)) throw InputError(file, field, "not finite");
  return d;
}

// Shortest decimal text that reads back to the same value (std::to_chars round-trip guarantee).
template <class T>
std::string shortest(T v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

double parse_double(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

// Text of the width (x2 - x1) such that read_coco_results' float(x + w) gives back x2 exactly: the short float
// text when it already does, else the exact double difference (which always does).
std::string extent_text(const std::string& origin_text, float lo, float hi) {
  const double origin = parse_double(origin_text);
  const std::string short_text = shortest(hi - lo);
  if (static_cast<float>(origin + parse_double(short_text)) == hi) return short_text;
  return shortest(static_cast<double>(hi) - origin);
}

}  // namespace

size_t num_detections(const DetectionSet& dets) {
  size_t n = 0;
  for (const ImageDetections& d : dets) n += d.dets.size();
  return n;
}

void check_detections(const Dataset& gt, const DetectionSet& dets) {
  const auto index = image_index(gt);
  for (const ImageDetections& img : dets) {
    DETLAB_REQUIRE(index.count(img.image_id), "detections for an image id that is not in the ground truth",
                   img.image_id);
    for (const Detection& d : img.dets) {
      DETLAB_REQUIRE(d.label >= 0 && d.label < gt.num_classes(), img.image_id, d.label, gt.num_classes());
      DETLAB_REQUIRE(std::isfinite(d.box.x1) && std::isfinite(d.box.y1) && std::isfinite(d.box.x2) &&
                         std::isfinite(d.box.y2) && d.box.x2 >= d.box.x1 && d.box.y2 >= d.box.y1,
                     img.image_id, d.box.x1, d.box.y1, d.box.x2, d.box.y2);
      DETLAB_REQUIRE(std::isfinite(d.score), img.image_id, d.score);
    }
  }
}

std::vector<Detections> detections_by_image(const Dataset& gt, const DetectionSet& dets) {
  check_detections(gt, dets);
  const auto index = image_index(gt);
  std::vector<Detections> out(gt.images.size());
  for (const ImageDetections& img : dets) {
    Detections& d = out[index.at(img.image_id)];
    d.insert(d.end(), img.dets.begin(), img.dets.end());
  }
  return out;
}

namespace detail {

std::optional<DetectionSet> read_coco_results_streaming(const std::filesystem::path& json_file, const Dataset& gt) {
  auto require = [](bool ok) {
    if (!ok) throw JsonScanFailed{};
  };
  try {
    const MappedFile bytes(json_file);
    JsonScanner s(bytes.begin(), bytes.end());
    const auto images = image_index(gt);
    std::unordered_map<int64_t, int> labels;
    for (size_t k = 0; k < gt.category_ids.size(); ++k) labels.emplace(gt.category_ids[k], static_cast<int>(k));
    std::vector<Detections> per_image(gt.images.size());
    std::string key;
    s.begin_array();
    while (s.next_element()) {
      require(s.peek() == JsonScanner::Kind::kObject);
      s.begin_object();
      int64_t image_id = 0, category_id = 0;
      double v[4] = {0, 0, 0, 0}, score = 0;
      bool has_image = false, has_category = false, has_bbox = false, has_score = false;
      while (s.next_key(key)) {
        if (key == "image_id") {
          image_id = s.read_int64();
          has_image = true;
        } else if (key == "category_id") {
          category_id = s.read_int64();
          has_category = true;
        } else if (key == "bbox") {
          s.begin_array();
          int n = 0;
          while (s.next_element()) {
            require(n < 4);
            v[n++] = s.read_double();
          }
          require(n == 4);
          has_bbox = true;
        } else if (key == "score") {
          score = s.read_double();
          has_score = true;
        } else {
          s.skip_value();
        }
      }
      require(has_image && has_category && has_bbox && has_score);
      const auto img = images.find(image_id);
      const auto label = labels.find(category_id);
      require(img != images.end() && label != labels.end() && v[2] >= 0 && v[3] >= 0);
      Detection d;
      d.box = {static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[0] + v[2]),
               static_cast<float>(v[1] + v[3])};
      d.label = label->second;
      d.score = static_cast<float>(score);
      require(std::isfinite(d.box.x2) && std::isfinite(d.box.y2) && std::isfinite(d.score));
      per_image[static_cast<size_t>(img->second)].push_back(d);
    }
    require(s.at_end());
    DetectionSet out;
    for (size_t i = 0; i < gt.images.size(); ++i)
      if (!per_image[i].empty()) out.push_back({gt.images[i].id, std::move(per_image[i])});
    return out;
  } catch (const JsonScanFailed&) {
    return std::nullopt;
  } catch (const InputError&) {  // the file cannot be mapped: the checked path says why
    return std::nullopt;
  }
}

DetectionSet read_coco_results_checked(const std::filesystem::path& json_file, const Dataset& gt) {
  const std::string file = json_file.string();
  json doc;
  try {
    doc = json::parse(read_file(json_file));
  } catch (const json::exception& e) {  // syntax errors, and numbers out of double range (1e400)
    throw InputError(file, "", std::string("invalid JSON (NaN, Infinity and overflowing numbers are not JSON): ") +
                                   e.what());
  }
  if (!doc.is_array())
    throw InputError(file, "", "expected a JSON list of detections ({image_id, category_id, bbox, score})");

  const auto images = image_index(gt);
  std::unordered_map<int64_t, int> labels;
  for (size_t k = 0; k < gt.category_ids.size(); ++k) labels.emplace(gt.category_ids[k], static_cast<int>(k));

  std::vector<Detections> per_image(gt.images.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& obj = doc[i];
    if (!obj.is_object()) throw InputError(file, "[" + std::to_string(i) + "]", "expected an object");
    const int64_t image_id = read_id(obj, i, "image_id", file);
    auto img = images.find(image_id);
    if (img == images.end())
      throw InputError(file, element(i, "image_id"), "unknown image id " + std::to_string(image_id) +
                                                          " (not in the ground truth)");
    const int64_t category_id = read_id(obj, i, "category_id", file);
    auto label = labels.find(category_id);
    if (label == labels.end())
      throw InputError(file, element(i, "category_id"), "unknown category id " + std::to_string(category_id) +
                                                             " (not in the ground truth)");
    auto bbox = obj.find("bbox");
    if (bbox == obj.end()) throw InputError(file, element(i, "bbox"), "missing");
    if (!bbox->is_array() || bbox->size() != 4)
      throw InputError(file, element(i, "bbox"), "expected [x, y, width, height], got " + bbox->dump());
    double v[4];
    for (int c = 0; c < 4; ++c) v[c] = read_number((*bbox)[c], file, element(i, "bbox"));
    if (v[2] < 0 || v[3] < 0)
      throw InputError(file, element(i, "bbox"), "negative width or height in " + bbox->dump());
    auto score = obj.find("score");
    if (score == obj.end()) throw InputError(file, element(i, "score"), "missing");
    const double s = read_number(*score, file, element(i, "score"));

    Detection d;
    d.box = {static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[0] + v[2]),
             static_cast<float>(v[1] + v[3])};
    if (!std::isfinite(d.box.x2) || !std::isfinite(d.box.y2))
      throw InputError(file, element(i, "bbox"), "box does not fit in single precision: " + bbox->dump());
    d.label = label->second;
    d.score = static_cast<float>(s);
    if (!std::isfinite(d.score))
      throw InputError(file, element(i, "score"), "does not fit in single precision: " + score->dump());
    per_image[img->second].push_back(d);
  }

  DetectionSet out;
  for (size_t i = 0; i < gt.images.size(); ++i)
    if (!per_image[i].empty()) out.push_back({gt.images[i].id, std::move(per_image[i])});
  return out;
}

}  // namespace detail

DetectionSet read_coco_results(const std::filesystem::path& json_file, const Dataset& gt) {
  if (std::optional<DetectionSet> fast = detail::read_coco_results_streaming(json_file, gt)) return std::move(*fast);
  return detail::read_coco_results_checked(json_file, gt);
}

void write_coco_results(const std::filesystem::path& json_file, const Dataset& gt, const DetectionSet& dets) {
  const std::vector<Detections> per_image = detections_by_image(gt, dets);
  DETLAB_REQUIRE(gt.category_ids.size() == gt.class_names.size(), gt.category_ids.size(), gt.class_names.size());
  std::ostringstream os;
  os << "[";
  bool first = true;
  for (size_t i = 0; i < per_image.size(); ++i) {
    for (const Detection& d : per_image[i]) {
      const std::string x = shortest(d.box.x1), y = shortest(d.box.y1);
      os << (first ? "\n" : ",\n") << "{\"image_id\": " << gt.images[i].id
         << ", \"category_id\": " << gt.category_ids[d.label] << ", \"bbox\": [" << x << ", " << y << ", "
         << extent_text(x, d.box.x1, d.box.x2) << ", " << extent_text(y, d.box.y1, d.box.y2)
         << "], \"score\": " << shortest(d.score) << "}";
      first = false;
    }
  }
  os << (first ? "]\n" : "\n]\n");
  write_file_atomic(json_file, os.str());
}

}  // namespace detlab

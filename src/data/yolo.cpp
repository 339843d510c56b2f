// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO / darknet folders as CVAT exports them (obj.names, obj.data, list files, obj_<split>_data/<stem>.txt),
// plus detlab's sidecar detlab.json for what YOLO cannot store (sizes, flags, ids, splits).
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/error.h"
#include "core/write_error.h"
#include "core/progress.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/image_header.h"
#include "data/json_util.h"
#include "data/output_dir.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kSidecarVersion = 1;
const char* const kSidecar = "detlab.json";
const char* const kImageExts[] = {".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG", ".BMP"};

// Darknet resolves the paths in obj.data and the list files from its own folder, where this folder is "data/".
std::string strip_darknet_prefix(std::string p) {
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  if (p.rfind("data/", 0) == 0) p = p.substr(5);
  return p;
}

bool is_safe_relative(const std::string& p) {
  const fs::path path(p);
  if (p.empty() || path.is_absolute() || path.has_root_name()) return false;
  for (const fs::path& part : path)
    if (part == "..") return false;
  return true;
}

std::map<std::string, std::string> read_obj_data(const fs::path& file) {
  std::map<std::string, std::string> kv;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) kv[detail::trim(line.substr(0, eq))] = detail::trim(line.substr(eq + 1));
  }
  return kv;
}

// One image to read: its listed path (may be empty), its stem and the splits whose list names it.
struct Entry {
  std::string listed, name;
  std::set<std::string> splits;
};

class YoloReader {
 public:
  YoloReader(fs::path root, const ReadOptions& opts) : root_(std::move(root)), opts_(opts) {}
  Dataset read();

 private:
  std::vector<std::string> read_class_names();
  std::vector<Entry> list_entries();
  std::vector<fs::path> label_dirs() const;
  fs::path find_label(const Entry& e) const;
  fs::path find_image(const Entry& e, const fs::path& label) const;
  void read_labels(const fs::path& label, ImageRecord& rec, const json* side_objects,
                   const std::vector<int>& file_to_label);

  fs::path root_;
  const ReadOptions& opts_;
  std::map<std::string, std::string> obj_data_;
  json sidecar_;
  std::vector<std::string> file_classes_;
};

std::vector<std::string> YoloReader::read_class_names() {
  std::vector<fs::path> candidates;
  if (obj_data_.count("names") && is_safe_relative(strip_darknet_prefix(obj_data_["names"])))
    candidates.push_back(root_ / strip_darknet_prefix(obj_data_["names"]));
  candidates.push_back(root_ / "obj.names");
  candidates.push_back(root_ / "classes.txt");
  for (const fs::path& c : candidates)
    if (fs::is_regular_file(c)) return detail::read_name_list(c);
  if (!opts_.classes.empty()) return opts_.classes;  // label indices refer to the given list
  throw InputError(root_.string(), "names", "no class names file (obj.names or classes.txt)");
}

std::vector<fs::path> YoloReader::label_dirs() const {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root_)) {
    const std::string n = e.path().filename().string();
    if (e.is_directory() && ((n.rfind("obj_", 0) == 0 && n.size() > 9 && n.substr(n.size() - 5) == "_data") || n == "labels"))
      dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::vector<Entry> YoloReader::list_entries() {
  std::map<std::string, Entry> by_name;
  auto add = [&](const std::string& listed, const std::string& split) {
    Entry& e = by_name[detail::file_stem(listed)];
    if (e.name.empty()) e.name = detail::file_stem(listed), e.listed = listed;
    if (!split.empty()) e.splits.insert(split);
  };
  if (!sidecar_.is_null()) {
    for (const json& img : sidecar_["images"]) add(img["file"].get<std::string>(), "");
  } else {
    // list files named by obj.data (train / valid / test), else the usual names in this folder
    std::vector<std::pair<fs::path, std::string>> lists;
    const std::pair<const char*, const char*> keys[] = {{"train", "train"}, {"valid", "val"}, {"test", "test"}};
    for (const auto& [key, split] : keys)
      if (obj_data_.count(key) && is_safe_relative(strip_darknet_prefix(obj_data_[key])))
        lists.emplace_back(root_ / strip_darknet_prefix(obj_data_[key]), split);
    if (lists.empty())
      for (const auto& [file, split] : std::vector<std::pair<const char*, const char*>>{
               {"train.txt", "train"}, {"valid.txt", "val"}, {"val.txt", "val"}, {"test.txt", "test"}})
        if (fs::is_regular_file(root_ / file)) lists.emplace_back(root_ / file, split);
    for (const auto& [file, split] : lists) {
      if (!fs::is_regular_file(file)) throw InputError(file.string(), "split", "list file named in obj.data not found");
      for (const std::string& line : detail::read_name_list(file)) add(line, split);
    }
    if (lists.empty())  // no list files: every label file is an image
      for (const fs::path& dir : label_dirs())
        for (const auto& f : fs::directory_iterator(dir))
          if (f.path().extension() == ".txt") add(f.path().filename().replace_extension().string(), "");
  }
  std::vector<Entry> entries;
  for (auto& kv : by_name) entries.push_back(std::move(kv.second));  // sorted by name
  return entries;
}

fs::path YoloReader::find_label(const Entry& e) const {
  const std::string rel = strip_darknet_prefix(e.listed);
  if (is_safe_relative(rel) && fs::path(rel).has_extension()) {
    fs::path p = root_ / rel;
    if (fs::is_regular_file(p.replace_extension(".txt"))) return p;
    std::string swapped = rel;  // darknet's own rule: .../images/x.jpg -> .../labels/x.txt
    const size_t at = swapped.find("images/");
    if (at != std::string::npos) {
      swapped.replace(at, 7, "labels/");
      const fs::path q = (root_ / swapped).replace_extension(".txt");
      if (fs::is_regular_file(q)) return q;
    }
  }
  for (const fs::path& dir : label_dirs())
    if (fs::is_regular_file(dir / (e.name + ".txt"))) return dir / (e.name + ".txt");
  return {};
}

fs::path YoloReader::find_image(const Entry& e, const fs::path& label) const {
  const std::string rel = strip_darknet_prefix(e.listed);
  const bool rel_ok = is_safe_relative(rel) && fs::path(rel).has_extension();
  std::vector<std::string> names;  // file names to try in each folder, the listed extension first
  if (fs::path(rel).has_extension()) names.push_back(e.name + fs::path(rel).extension().string());
  for (const char* ext : kImageExts) names.push_back(e.name + ext);
  auto first_in = [&](const fs::path& dir) -> fs::path {
    for (const std::string& n : names)
      if (fs::is_regular_file(dir / n)) return dir / n;
    return {};
  };
  std::vector<fs::path> dirs;
  if (!opts_.image_root.empty()) {
    if (rel_ok && fs::is_regular_file(opts_.image_root / rel)) return opts_.image_root / rel;
    dirs.push_back(opts_.image_root);
  } else {
    if (rel_ok && fs::is_regular_file(root_ / rel)) return root_ / rel;
    if (!label.empty()) dirs.push_back(label.parent_path());
    dirs.push_back(root_ / "images");
    dirs.push_back(root_ / "JPEGImages");
    dirs.push_back(root_.parent_path() / "JPEGImages");
    dirs.push_back(root_.parent_path() / "images");
  }
  for (const fs::path& d : dirs)
    if (fs::path p = first_in(d); !p.empty()) return p;
  return {};
}

void YoloReader::read_labels(const fs::path& label, ImageRecord& rec, const json* side_objects,
                             const std::vector<int>& file_to_label) {
  if (label.empty()) return;  // darknet reads a missing label file as an image without objects
  const std::string f = label.string();
  std::ifstream in(label);
  if (!in) throw InputError(f, "", "cannot open label file");
  std::string line;
  int k = -1;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    std::istringstream tokens(line);
    std::vector<std::string> t;
    for (std::string s; tokens >> s;) t.push_back(s);
    if (t.empty()) continue;
    ++k;
    const std::string field = "line " + std::to_string(line_no);
    if (t.size() != 5) throw InputError(f, field, "expected 'class cx cy w h', got " + std::to_string(t.size()) + " values");
    const long long cls = detail::parse_integer(t[0], f, field + ".class");
    if (cls < 0 || cls >= static_cast<long long>(file_to_label.size()))
      throw InputError(f, field + ".class", "class index " + t[0] + " outside [0, " + std::to_string(file_to_label.size()) + ")");
    double v[4];
    for (int c = 0; c < 4; ++c) v[c] = detail::parse_number(t[c + 1], f, field);
    const double W = rec.width, H = rec.height;
    Object o;
    o.box = Box{static_cast<float>((v[0] - v[2] / 2) * W), static_cast<float>((v[1] - v[3] / 2) * H),
                static_cast<float>((v[0] + v[2] / 2) * W), static_cast<float>((v[1] + v[3] / 2) * H)};
    if (side_objects) {
      if (k >= static_cast<int>(side_objects->size()))
        throw InputError((root_ / kSidecar).string(), "images." + rec.name + ".objects",
                         "fewer entries than lines in " + f);
      const json& so = (*side_objects)[k];
      o.difficult = so.value("difficult", 0) != 0;
      o.crowd = so.value("crowd", 0) != 0;
      o.area = so.value("area", -1.f);
      o.id = so.value("id", int64_t{0});
    }
    if (!detail::accept_box(o.box, f, field, opts_)) continue;
    o.label = file_to_label[cls];
    if (o.label < 0) continue;
    rec.objects.push_back(o);
  }
  if (side_objects && k + 1 != static_cast<int>(side_objects->size()))
    throw InputError((root_ / kSidecar).string(), "images." + rec.name + ".objects",
                     "entry count differs from the lines in " + f);
}

Dataset YoloReader::read() {
  if (!fs::is_directory(root_)) throw InputError(root_.string(), "", "not a YOLO folder");
  root_ = fs::absolute(root_).lexically_normal();
  if (root_.filename().empty()) root_ = root_.parent_path();
  if (fs::is_regular_file(root_ / "obj.data")) obj_data_ = read_obj_data(root_ / "obj.data");
  if (fs::is_regular_file(root_ / kSidecar)) {
    sidecar_ = detail::parse_json_file(root_ / kSidecar);
    const std::string sf = (root_ / kSidecar).string();
    const json& version = detail::json_get(sidecar_, "format_version", detail::JsonKind::kInteger, sf, "format_version");
    if (version.get<int>() != kSidecarVersion)
      throw InputError(sf, "format_version", "unsupported version " + version.dump() + " (this build reads 1)");
    const json& images = detail::json_get(sidecar_, "images", detail::JsonKind::kArray, sf, "images");
    for (size_t k = 0; k < images.size(); ++k) {
      const std::string field = "images[" + std::to_string(k) + "]";
      detail::json_get(images[k], "name", detail::JsonKind::kString, sf, field + ".name");
      detail::json_get(images[k], "file", detail::JsonKind::kString, sf, field + ".file");
      for (const json& o : detail::json_get(images[k], "objects", detail::JsonKind::kArray, sf, field + ".objects"))
        if (!o.is_object()) throw InputError(sf, field + ".objects", "expected objects");
    }
  }
  file_classes_ = read_class_names();
  detail::ClassTable table(opts_.classes.empty() ? file_classes_ : opts_.classes, true, opts_.skip_other_classes);
  std::vector<int> file_to_label;
  for (const std::string& n : file_classes_) file_to_label.push_back(table.label(n, root_.string(), "names"));

  Dataset ds;
  ds.format = "yolo";
  ds.name = root_.filename().string();
  ds.class_names = table.names();
  const std::vector<Entry> entries = list_entries();
  std::map<std::string, const json*> side_images;
  if (!sidecar_.is_null()) {
    ds.name = sidecar_.value("name", ds.name);
    if (sidecar_.contains("category_ids") && opts_.classes.empty())
      ds.category_ids = sidecar_["category_ids"].get<std::vector<int64_t>>();
    for (const json& img : sidecar_["images"]) side_images[img["name"].get<std::string>()] = &img;
  }
  std::vector<fs::path> found(entries.size());
  bool all_inside = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const json* side = side_images.count(e.name) ? side_images[e.name] : nullptr;
    const fs::path label = find_label(e);
    found[i] = find_image(e, label);
    ImageRecord rec;
    rec.name = e.name;
    rec.id = side ? side->value("id", int64_t(i) + 1) : int64_t(i) + 1;
    if (side) rec.width = side->value("width", 0), rec.height = side->value("height", 0);
    if (rec.width <= 0 || rec.height <= 0) {
      if (found[i].empty())
        throw InputError(label.empty() ? e.listed : label.string(), "image",
                         "image '" + e.name + "' not found (its size is needed to read normalized boxes); "
                         "looked next to the labels, in images/, JPEGImages/ and ../JPEGImages/; pass an image root");
      const cv::Size s = read_image_size(found[i]);
      rec.width = s.width, rec.height = s.height;
    }
    if (found[i].empty()) {  // sizes known from the sidecar: keep the conventional location, fail on load
      const std::string rel = strip_darknet_prefix(e.listed);
      found[i] = is_safe_relative(rel) ? root_ / rel : root_ / (e.name + ".jpg");
    }
    found[i] = fs::absolute(found[i]).lexically_normal();
    const fs::path inside = found[i].lexically_relative(root_);
    if (inside.empty() || *inside.begin() == "..") all_inside = false;
    read_labels(label, rec, side ? &(*side)["objects"] : nullptr, file_to_label);
    ds.images.push_back(std::move(rec));
  }
  ds.root = !opts_.image_root.empty() ? fs::absolute(opts_.image_root).lexically_normal()
                                      : (all_inside ? root_ : root_.parent_path());
  for (size_t i = 0; i < ds.images.size(); ++i) {
    ds.images[i].file = found[i].lexically_relative(ds.root).generic_string();
    detail::check_relative_path(ds.images[i].file, root_.string(), "image " + ds.images[i].name);
  }
  // splits: the sidecar's, else the list files'
  std::map<std::string, int> index;
  for (size_t i = 0; i < ds.images.size(); ++i) index[ds.images[i].name] = static_cast<int>(i);
  if (!sidecar_.is_null() && sidecar_.contains("splits")) {
    for (const auto& [split, names] : sidecar_["splits"].items())
      for (const json& n : names) {
        auto it = index.find(n.get<std::string>());
        if (it == index.end()) throw InputError((root_ / kSidecar).string(), "splits." + split, "unknown image " + n.dump());
        ds.splits[split].push_back(it->second);
      }
  } else {
    for (size_t i = 0; i < entries.size(); ++i)
      for (const std::string& s : entries[i].splits) ds.splits[s].push_back(static_cast<int>(i));
  }
  for (auto& kv : ds.splits) std::sort(kv.second.begin(), kv.second.end());
  detail::finish_dataset(ds, root_, opts_);
  return ds;
}

}  // namespace

Dataset read_yolo(const fs::path& root, const ReadOptions& opts) { return YoloReader(root, opts).read(); }

void write_yolo(const Dataset& ds, const fs::path& out_root) {
  OutputDir out(out_root);
  const fs::path data = out.path() / "obj_train_data";
  fs::create_directories(data);
  json side_images = json::array();
  std::vector<std::string> listed(ds.images.size());
  ProgressBar bar("write yolo", static_cast<int64_t>(ds.images.size()), "img");
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const ImageRecord& r = ds.images[i];
    const bool in_memory = ds.memory_images.count(r.name) > 0;
    const std::string ext = in_memory || r.file.empty() ? ".png" : fs::path(r.file).extension().string();
    export_image(ds, i, data / (r.name + ext));
    int w = r.width, h = r.height;
    if (w <= 0 || h <= 0) {
      const cv::Size s = read_image_size(data / (r.name + ext));
      w = s.width, h = s.height;
    }
    std::ofstream labels(data / (r.name + ".txt"));
    json side_objects = json::array();
    for (const Object& o : r.objects) {
      DETLAB_REQUIRE(o.label >= 0 && o.label < ds.num_classes(), o.label, ds.num_classes());
      const double x1 = o.box.x1, y1 = o.box.y1, x2 = o.box.x2, y2 = o.box.y2;
      labels << o.label << " " << detail::format_double((x1 + x2) / 2 / w) << " "
             << detail::format_double((y1 + y2) / 2 / h) << " " << detail::format_double((x2 - x1) / w) << " "
             << detail::format_double((y2 - y1) / h) << "\n";
      side_objects.push_back({{"difficult", o.difficult ? 1 : 0}, {"crowd", o.crowd ? 1 : 0}, {"area", o.area}, {"id", o.id}});
    }
    if (!labels) throw_write_error(data / (r.name + ".txt"), errno);
    listed[i] = "data/obj_train_data/" + r.name + ext;
    side_images.push_back({{"name", r.name}, {"file", "obj_train_data/" + r.name + ext}, {"id", r.id},
                           {"width", w}, {"height", h}, {"objects", side_objects}});
    bar.tick();
  }
  bar.finish();
  {
    std::ofstream names(out.path() / "obj.names");
    for (const std::string& c : ds.class_names) names << c << "\n";
  }
  std::map<std::string, std::vector<int>> lists = ds.splits;
  if (lists.empty()) {  // darknet needs a train list; CVAT lists every image there
    std::vector<int> all(ds.images.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    lists["train"] = all;
  }
  json side_splits = json::object();
  for (const auto& [split, indices] : lists) {
    std::ofstream f(out.path() / (detail::safe_file_part(split) + ".txt"));
    json names = json::array();
    for (int i : indices) f << listed.at(i) << "\n", names.push_back(ds.images.at(i).name);
    if (!ds.splits.empty()) side_splits[split] = names;
  }
  {
    std::ofstream obj_data(out.path() / "obj.data");
    obj_data << "classes = " << ds.num_classes() << "\n";
    if (lists.count("train")) obj_data << "train = data/train.txt\n";
    if (lists.count("val")) obj_data << "valid = data/val.txt\n";
    if (lists.count("test")) obj_data << "test = data/test.txt\n";
    obj_data << "names = data/obj.names\nbackup = backup/\n";
  }
  const json side = {{"format_version", kSidecarVersion}, {"name", ds.name}, {"category_ids", ds.category_ids},
                     {"splits", side_splits}, {"images", side_images}};
  std::ofstream(out.path() / kSidecar) << side.dump(1) << "\n";
  out.commit();
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab dataset: stats, convert, show (ground truth drawn on images) and synth (synthetic shapes data).
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/draw.h"
#include "data/formats.h"
#include "data/output_dir.h"
#include "data/stats.h"
#include "data/synthetic.h"

namespace detlab::cli {

namespace {

const char* const kOverview =
    "usage: detlab dataset <action> [options]     (detlab dataset <action> --help for its options)\n\n"
    "actions:\n"
    "  stats PATH      images, boxes per class and split, size buckets, box sizes (--json for JSON)\n"
    "  convert PATH    write the dataset in another format (--to voc|coco|yolo|dlib --out DIR)\n"
    "  show PATH       draw the ground truth on the images, one PNG per image (--out DIR)\n"
    "  synth           generate the synthetic shapes dataset (--out DIR)\n\n"
    "PATH is a VOC folder, a COCO .json (or a folder holding one), a YOLO folder or a dlib .xml;\n"
    "the format is detected unless --format names it.";

// Options every action that reads a dataset shares.
struct Source {
  std::string path, format = "auto", split, image_root;
};

void add_source_options(po::options_description& desc, po::positional_options_description& pos, Source& s) {
  desc.add_options()("path", po::value<std::string>(&s.path)->required(), "dataset (positional)")(
      "format", po::value<std::string>(&s.format)->default_value("auto"), "auto, voc, coco, yolo or dlib")(
      "split", po::value<std::string>(&s.split), "only this split (e.g. train, val, test)")(
      "image-root", po::value<std::string>(&s.image_root), "folder of the images (COCO / YOLO), if not the default");
  pos.add("path", 1);
}

Dataset read_source(const Source& s) {
  ReadOptions ro;
  ro.split = s.split;
  ro.image_root = s.image_root;
  return read_dataset(s.path, s.format, ro);
}

int run_stats(const std::vector<std::string>& args) {
  po::options_description desc("detlab dataset stats options");
  po::positional_options_description pos;
  CommonOptions common;
  Source src;
  bool as_json = false;
  add_common_options(desc, common, false);
  add_source_options(desc, pos, src);
  desc.add_options()("json", po::bool_switch(&as_json), "print JSON instead of tables");
  po::variables_map vm;
  if (!parse_args(args, "usage: detlab dataset stats PATH [--format F] [--split S] [--json]\n\n"
                        "Counts images and boxes per class and split, difficult / crowd objects, COCO size\n"
                        "buckets (area < 32^2, < 96^2, larger) and summarizes box and image sizes.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const DatasetStats s = compute_stats(read_source(src));
  std::cout << (as_json ? stats_to_json(s) + "\n" : format_stats(s));
  return 0;
}

int run_convert(const std::vector<std::string>& args) {
  po::options_description desc("detlab dataset convert options");
  po::positional_options_description pos;
  CommonOptions common;
  Source src;
  std::string to, out;
  add_common_options(desc, common, false);
  add_source_options(desc, pos, src);
  desc.add_options()("to", po::value<std::string>(&to)->required(), "voc, coco, yolo or dlib")(
      "out", po::value<std::string>(&out)->required(), "output folder (must not exist, or be empty)");
  po::variables_map vm;
  if (!parse_args(args, "usage: detlab dataset convert PATH --to voc|coco|yolo|dlib --out DIR [--split S]\n\n"
                        "Writes a self-contained copy (images included) in another format. COCO: DIR/annotations.json;\n"
                        "dlib: DIR/dataset.xml; YOLO adds detlab.json with what YOLO cannot store (sizes, flags, splits).",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const Dataset ds = read_source(src);
  write_dataset(ds, out, to);
  std::cout << "wrote " << ds.images.size() << " images, " << ds.num_objects() << " boxes as " << to << " to " << out << "\n";
  return 0;
}

int run_show(const std::vector<std::string>& args) {
  po::options_description desc("detlab dataset show options");
  po::positional_options_description pos;
  CommonOptions common;
  Source src;
  std::string out;
  int limit = 0;
  add_common_options(desc, common, false);
  add_source_options(desc, pos, src);
  desc.add_options()("out", po::value<std::string>(&out)->required(), "output folder (must not exist, or be empty)")(
      "limit", po::value<int>(&limit)->default_value(0), "at most this many images (0 = all)");
  po::variables_map vm;
  if (!parse_args(args, "usage: detlab dataset show PATH --out DIR [--split S] [--limit N]\n\n"
                        "Draws every ground-truth box with its class (difficult objects marked '*') and writes\n"
                        "DIR/<image name>.png.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  if (limit < 0) throw InputError("", "--limit", "must be >= 0");
  const Dataset ds = read_source(src);
  const size_t n = limit > 0 ? std::min(ds.images.size(), static_cast<size_t>(limit)) : ds.images.size();
  OutputDir dir(out);
  ProgressBar bar("show", static_cast<int64_t>(n), "img");
  for (size_t i = 0; i < n; ++i) {
    const cv::Mat drawn = draw_objects(ds.load_image(i), ds.images[i].objects, ds.class_names);
    const std::string file = (dir.path() / (ds.images[i].name + ".png")).string();
    if (!cv::imwrite(file, drawn)) throw std::runtime_error("cannot write " + file);
    bar.tick();
  }
  bar.finish();
  dir.commit();
  std::cout << "wrote " << n << " images to " << out << "\n";
  return 0;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int run_synth(const std::vector<std::string>& args) {
  po::options_description desc("detlab dataset synth options");
  CommonOptions common;
  SyntheticOptions o;
  std::string out, format = "voc", classes;
  add_common_options(desc, common, false);
  std::string default_classes;
  for (const std::string& c : o.classes) default_classes += (default_classes.empty() ? "" : ",") + c;
  desc.add_options()("out", po::value<std::string>(&out)->required(), "output folder (must not exist, or be empty)")(
      "format", po::value<std::string>(&format)->default_value("voc"), "voc, coco, yolo or dlib")(
      "images", po::value<int>(&o.num_images)->default_value(o.num_images), "number of images")(
      "seed", po::value<uint64_t>(&o.seed)->default_value(o.seed), "random seed (same seed, same bits)")(
      "width", po::value<int>(&o.width)->default_value(o.width), "image width, px")(
      "height", po::value<int>(&o.height)->default_value(o.height), "image height, px")(
      "min-objects", po::value<int>(&o.min_objects)->default_value(o.min_objects), "objects per image, at least")(
      "max-objects", po::value<int>(&o.max_objects)->default_value(o.max_objects), "objects per image, at most")(
      "min-size", po::value<int>(&o.min_size)->default_value(o.min_size), "longer box side, px, at least")(
      "max-size", po::value<int>(&o.max_size)->default_value(o.max_size), "longer box side, px, at most")(
      "max-aspect", po::value<float>(&o.max_aspect)->default_value(o.max_aspect), "long / short box side, at most")(
      "max-iou", po::value<float>(&o.max_iou)->default_value(o.max_iou), "overlap between two objects, at most")(
      "occlusion", po::value<float>(&o.occlusion_prob)->default_value(o.occlusion_prob), "chance of an occluder per object")(
      "classes", po::value<std::string>(&classes)->default_value(default_classes),
      "comma-separated shapes: ellipse, rectangle, triangle, cross, ring, diamond")(
      "val-fraction", po::value<float>(&o.val_fraction)->default_value(o.val_fraction), "share of val images")(
      "test-fraction", po::value<float>(&o.test_fraction)->default_value(o.test_fraction), "share of test images");
  po::variables_map vm;
  if (!parse_args(args, "usage: detlab dataset synth --out DIR [--images N] [--seed S] [...]\n\n"
                        "Generates coloured shapes on textured backgrounds (train / val / test splits) and writes\n"
                        "them as a dataset folder (VOC by default). The same options give the same bits anywhere.",
                  desc, {}, vm))
    return 0;
  apply_common_options(common);
  o.classes = split_list(classes);
  const Dataset ds = make_synthetic(o);
  write_dataset(ds, out, format);
  std::cout << "wrote " << ds.images.size() << " images, " << ds.num_objects() << " boxes as " << format << " to " << out << "\n";
  return 0;
}

}  // namespace

int cmd_dataset(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kOverview << "\n";
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kOverview << "\n";
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "stats") return run_stats(rest);
  if (args[0] == "convert") return run_convert(rest);
  if (args[0] == "show") return run_show(rest);
  if (args[0] == "synth") return run_synth(rest);
  throw InputError("", "action", "unknown action '" + args[0] + "' (stats, convert, show, synth; see detlab dataset --help)");
}

}  // namespace detlab::cli

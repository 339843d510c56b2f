// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab detect: run a trained model on image files; PNGs with boxes and a COCO results JSON.
#include <filesystem>
#include <iostream>

#include <opencv2/imgcodecs.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "pipeline/runtime.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/draw.h"
#include "data/image_header.h"
#include "eval/detections.h"
#include "experiment/run.h"

namespace detlab::cli {

namespace fs = std::filesystem;

int cmd_detect(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string config, model, out;
  std::vector<std::string> images;
  float min_score = 0.3f;
  po::options_description desc("detlab detect options");
  add_common_options(desc, common);
  desc.add_options()("config", po::value<std::string>(&config)->required(), "experiment config (YAML)")(
      "model,m", po::value<std::string>(&model)->required(), "model folder written by detlab train")(
      "images", po::value<std::vector<std::string>>(&images)->required(), "image files")(
      "out,o", po::value<std::string>(&out)->required(), "output folder")(
      "min-score", po::value<float>(&min_score)->default_value(0.3f),
      "draw detections scoring at least this (all go to detections.json)");
  po::positional_options_description pos;
  pos.add("config", 1).add("images", -1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab detect CONFIG --model DIR IMAGE... --out DIR [--min-score 0.3]\n\n"
                  "Writes OUT/<image stem>.png with the detections drawn and OUT/detections.json (COCO results:\n"
                  "image_id = position of the image on the command line, from 1; category ids of the config's\n"
                  "data set).",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const RunConfig rc = load_run_config(config, common.overrides);
  std::unique_ptr<Detector> det = load_trained(rc, model);

  // The command-line images as a data set, so that the COCO results writer knows ids and categories.
  Dataset files;
  files.name = "detect";
  files.class_names = rc.dataset.class_names;
  files.category_ids = rc.dataset.category_ids;
  std::vector<cv::Mat> pixels;
  for (size_t i = 0; i < images.size(); ++i) {
    cv::Mat bgr = decode_image(images[i], cv::IMREAD_COLOR);
    if (bgr.empty()) throw InputError(images[i], "", "cannot read image");
    ImageRecord rec;
    rec.id = static_cast<int64_t>(i) + 1;
    rec.name = fs::path(images[i]).stem().string();
    rec.file = images[i];
    rec.width = bgr.cols;
    rec.height = bgr.rows;
    files.images.push_back(rec);
    pixels.push_back(bgr);
  }
  fs::create_directories(out);
  DetectionSet dets;
  ProgressBar bar("detect", static_cast<int64_t>(images.size()), "img");
  for (size_t i = 0; i < images.size(); ++i) {
    Detections d = det->detect(Image{files.images[i].name, pixels[i]});
    const cv::Mat drawn = draw_detections(pixels[i], d, files.class_names, min_score);
    const fs::path png = fs::path(out) / (files.images[i].name + ".png");
    std::vector<uchar> buf;
    if (!cv::imencode(".png", drawn, buf)) throw std::runtime_error("cannot encode " + png.string());
    write_file_atomic(png, std::string(buf.begin(), buf.end()));
    std::cout << images[i] << ": " << d.size() << " detections\n";
    dets.push_back({files.images[i].id, std::move(d)});
    bar.tick();
  }
  bar.finish();
  write_coco_results(fs::path(out) / "detections.json", files, dets);
  std::cout << "wrote " << images.size() << " PNGs and " << (fs::path(out) / "detections.json").string()
            << " (threads: " << library_threads().describe() << ")\n";
  return 0;
}

}  // namespace detlab::cli

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib_fhog detector: the only file that instantiates scan_fhog_pyramid and its structural SVM trainer.
#include "detectors/dlib_fhog.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>

#include <dlib/image_processing.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv/cv_image.h>
#include <dlib/svm_threaded.h>

#include "config/checked.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "pipeline/model_dir.h"

namespace detlab {

namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFile = "dlib_fhog.json";
using Scanner = dlib::scan_fhog_pyramid<dlib::pyramid_down<6>>;
using FhogDetector = dlib::object_detector<Scanner>;
using DlibImage = dlib::array2d<dlib::rgb_pixel>;

float sigmoid(double m) { return static_cast<float>(1.0 / (1.0 + std::exp(-m))); }

/// dlib rectangles are inclusive pixel ranges; detlab boxes are continuous (src/README.md: boxes).
dlib::rectangle to_rect(const Box& b) {
  return dlib::rectangle(std::lround(b.x1), std::lround(b.y1), std::lround(b.x2) - 1, std::lround(b.y2) - 1);
}
Box to_box(const dlib::rectangle& r) {
  return {static_cast<float>(r.left()), static_cast<float>(r.top()), static_cast<float>(r.right() + 1),
          static_cast<float>(r.bottom() + 1)};
}

void to_dlib(const cv::Mat& bgr, int upsample, DlibImage& out) {
  dlib::assign_image(out, dlib::cv_image<dlib::bgr_pixel>(bgr));
  for (int i = 0; i < upsample; ++i) dlib::pyramid_up(out);
}

class DlibFhogDetector final : public Detector {
 public:
  DlibFhogDetector(const DlibFhogOptions& opts, std::string config_hash)
      : opts_(opts), config_hash_(std::move(config_hash)) {}

  std::string_view name() const override { return "dlib_fhog"; }
  int num_classes() const override { return static_cast<int>(opts_.class_names.size()); }
  int64_t num_parameters() const override {
    int64_t n = 0;
    for (const FhogDetector& d : detectors_) n += static_cast<int64_t>(d.get_w().size());
    return n;
  }

  Detections detect(const Image& image, StageTimes* times) override {
    DETLAB_REQUIRE(!detectors_.empty(), "dlib_fhog is not trained (train it, or load a trained model)");
    const auto t0 = std::chrono::steady_clock::now();
    DlibImage img;
    to_dlib(image.bgr, opts_.upsample, img);
    std::vector<dlib::rect_detection> found;
    dlib::evaluate_detectors(detectors_, img, found, opts_.adjust_threshold);
    const auto t1 = std::chrono::steady_clock::now();
    const float inv = 1.f / static_cast<float>(1 << opts_.upsample);
    Detections cands;
    for (const dlib::rect_detection& d : found) {
      Box b = to_box(d.rect);
      b = {b.x1 * inv, b.y1 * inv, b.x2 * inv, b.y2 * inv};
      cands.push_back({b, class_of_[d.weight_index], sigmoid(d.detection_confidence)});
    }
    Detections out = postprocess(cands, image.bgr.cols, image.bgr.rows, opts_.post);
    if (times) {
      const auto t2 = std::chrono::steady_clock::now();
      times->emplace_back("fhog_scan", std::chrono::duration<double, std::milli>(t1 - t0).count());
      times->emplace_back("post", std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    return out;
  }

  FhogWindowEvidence evidence(const cv::Mat& bgr, const Box& window, int label) const {
    const auto it = std::find(class_of_.begin(), class_of_.end(), label);
    if (it == class_of_.end())
      throw InputError("", "detection", "dlib_fhog has no filter for class " + std::to_string(label));
    const FhogDetector& det = detectors_[static_cast<size_t>(it - class_of_.begin())];
    Scanner scanner;
    scanner.copy_configuration(det.get_scanner());
    DlibImage img;
    to_dlib(bgr, opts_.upsample, img);
    scanner.load(img);
    const float up = static_cast<float>(1 << opts_.upsample);
    const dlib::rectangle rect = to_rect({window.x1 * up, window.y1 * up, window.x2 * up, window.y2 * up});
    Scanner::feature_vector_type psi(scanner.get_num_dimensions());
    psi = 0;
    scanner.get_feature_vector(dlib::full_object_detection(rect), psi);
    const Scanner::feature_vector_type& w = det.get_w();
    const long n = static_cast<long>(scanner.get_num_dimensions());
    // psi and w are 31 planes of the filter's rows x cols cells (scan_fhog_pyramid::get_feature_vector).
    const long rows = static_cast<long>(scanner.get_fhog_window_height());
    const long cols = static_cast<long>(scanner.get_fhog_window_width());
    DETLAB_CHECK(rows * cols * 31 == n && w.size() == n + 1, "unexpected FHOG filter layout", rows, cols, n, w.size());
    FhogWindowEvidence e;
    e.contributions = cv::Mat::zeros(static_cast<int>(rows), static_cast<int>(cols), CV_32F);
    double dot = 0;
    for (long k = 0; k < 31; ++k)
      for (long r = 0; r < rows; ++r)
        for (long c = 0; c < cols; ++c) {
          const long i = (k * rows + r) * cols + c;
          const double term = w(i) * psi(i);
          e.contributions.at<float>(static_cast<int>(r), static_cast<int>(c)) += static_cast<float>(term);
          dot += term;
        }
    e.confidence = dot - w(n);
    // The filter's cells, centred on the window's best-matching rectangle, at that rectangle's scale (the
    // detection window is get_detection_window_width() pixels at its pyramid level).
    const Box b = to_box(scanner.get_best_matching_rect(rect));
    const double sx = (b.x2 - b.x1) / static_cast<double>(scanner.get_detection_window_width());
    const double sy = (b.y2 - b.y1) / static_cast<double>(scanner.get_detection_window_height());
    const double half_w = 0.5 * static_cast<double>(cols * scanner.get_cell_size()) * sx;
    const double half_h = 0.5 * static_cast<double>(rows * scanner.get_cell_size()) * sy;
    const double cx = 0.5 * (b.x1 + b.x2), cy = 0.5 * (b.y1 + b.y2);
    e.grid = Box{static_cast<float>((cx - half_w) / up), static_cast<float>((cy - half_h) / up),
                 static_cast<float>((cx + half_w) / up), static_cast<float>((cy + half_h) / up)};
    return e;
  }

  void fit(const TrainContext& ctx) override {
    DETLAB_REQUIRE(ctx.train != nullptr, "TrainContext::train is required");
    const Dataset& ds = *ctx.train;
    if (ds.class_names != opts_.class_names) throw InputError("", "detector", "training set classes differ");
    std::vector<int> subset(ds.images.size());
    std::iota(subset.begin(), subset.end(), 0);
    if (opts_.max_images > 0 && static_cast<int>(subset.size()) > opts_.max_images) {
      std::mt19937_64 rng(ctx.seed);
      std::shuffle(subset.begin(), subset.end(), rng);
      subset.resize(opts_.max_images);
      std::sort(subset.begin(), subset.end());
    }
    dlib::array<DlibImage> images(subset.size());
    {
      ProgressBar bar("dlib_fhog: loading images", static_cast<int64_t>(subset.size()), "img");
      for (size_t i = 0; i < subset.size(); ++i) {
        to_dlib(ds.load_image(subset[i]), opts_.upsample, images[i]);
        bar.tick();
      }
    }
    const float up = static_cast<float>(1 << opts_.upsample);
    detectors_.clear();
    class_of_.clear();
    windows_.clear();
    ProgressBar bar("dlib_fhog: structural SVM per class", num_classes(), "class");
    for (int c = 0; c < num_classes(); ++c) {
      std::vector<std::vector<dlib::rectangle>> boxes(subset.size()), ignore(subset.size());
      std::vector<float> sizes, aspects;
      for (size_t i = 0; i < subset.size(); ++i)
        for (const Object& o : ds.images[subset[i]].objects) {
          if (o.label != c) continue;
          const Box b{o.box.x1 * up, o.box.y1 * up, o.box.x2 * up, o.box.y2 * up};
          if (o.difficult || o.crowd) {
            ignore[i].push_back(to_rect(b));
            continue;
          }
          boxes[i].push_back(to_rect(b));
          sizes.push_back(std::sqrt(b.width() * b.height()));
          aspects.push_back(b.width() / b.height());
        }
      if (sizes.empty()) {
        std::cerr << "warning: dlib_fhog: class '" << opts_.class_names[c] << "' has no training boxes; skipped\n";
        bar.tick();
        continue;
      }
      const WindowSize w = window_for(sizes, aspects);
      Scanner scanner;
      scanner.set_detection_window_size(w.width, w.height);
      if (opts_.nuclear_norm > 0) scanner.set_nuclear_norm_regularization_strength(opts_.nuclear_norm);
      dlib::structural_object_detection_trainer<Scanner> trainer(scanner);
      trainer.set_num_threads(std::max(1, ctx.threads > 0 ? ctx.threads : 1));
      trainer.set_c(opts_.C);
      trainer.set_epsilon(opts_.epsilon);
      // Objects the scanner cannot produce (too small, wrong shape) would make dlib reject the data set.
      const auto removed = dlib::remove_unobtainable_rectangles(trainer, images, boxes);
      size_t n_removed = 0, n_kept = 0;
      for (const auto& r : removed) n_removed += r.size();
      for (const auto& r : boxes) n_kept += r.size();
      if (n_removed)
        std::cerr << "dlib_fhog: class '" << opts_.class_names[c] << "': " << n_removed << " of "
                  << n_removed + n_kept << " boxes are unobtainable by a " << w.width << "x" << w.height
                  << " window and are left out of training\n";
      for (size_t i = 0; i < boxes.size(); ++i)
        ignore[i].insert(ignore[i].end(), removed[i].begin(), removed[i].end());
      if (n_kept == 0) {
        std::cerr << "warning: dlib_fhog: class '" << opts_.class_names[c] << "': no obtainable boxes; skipped\n";
        bar.tick();
        continue;
      }
      try {
        detectors_.push_back(trainer.train(images, boxes, ignore));
      } catch (const dlib::impossible_labeling_error& e) {
        throw InputError(opts_.class_names[c], "boxes", std::string("dlib cannot train on these boxes: ") + e.what());
      }
      class_of_.push_back(c);
      windows_.push_back(w);
      bar.tick();
    }
    if (detectors_.empty()) throw InputError("", "dataset", "dlib_fhog: no class had trainable boxes");
  }

  void save(const std::filesystem::path& dir) const override {
    DETLAB_REQUIRE(!detectors_.empty(), "dlib_fhog is not trained; nothing to save");
    ModelHeader h;
    h.type = "dlib_fhog";
    h.config_hash = config_hash_;
    h.class_names = opts_.class_names;
    h.files = save_model_files(dir, [&](const std::filesystem::path& tmp) {
      nlohmann::json j;
      j["upsample"] = opts_.upsample;
      j["detectors"] = nlohmann::json::array();
      for (size_t i = 0; i < detectors_.size(); ++i) {
        const std::string file = "dlib_fhog_" + std::to_string(class_of_[i]) + ".svm";
        std::ofstream out(tmp / file, std::ios::binary);
        dlib::serialize(detectors_[i], out);
        if (!out) throw std::runtime_error("cannot write " + (tmp / file).string());
        j["detectors"].push_back({{"class", class_of_[i]}, {"file", file}, {"window", {windows_[i].width, windows_[i].height}}});
      }
      write_versioned_json(tmp / kFile, "dlib_fhog", kFormatVersion, j);
    });
    write_model_header(dir, h);
  }

  void load(const std::filesystem::path& dir) override {
    read_model_header(dir, "dlib_fhog", opts_.class_names, config_hash_);
    const auto file = dir / kFile;
    const nlohmann::json j = read_versioned_json(file, "dlib_fhog", kFormatVersion);
    std::vector<FhogDetector> dets;
    std::vector<int> classes;
    std::vector<WindowSize> windows;
    read_json_fields(file, [&] {
      if (j.at("upsample").get<int>() != opts_.upsample)
        throw InputError(file.string(), "upsample", "model trained with another upsample than the config's");
      for (const auto& d : j.at("detectors")) {
        const int c = d.at("class").get<int>();
        if (c < 0 || c >= num_classes()) throw InputError(file.string(), "detectors", "class out of range");
        const auto path = dir / d.at("file").get<std::string>();
        std::ifstream in(path, std::ios::binary);
        if (!in) throw InputError(path.string(), "", "model file not found");
        FhogDetector det;
        try {
          dlib::deserialize(det, in);
        } catch (const dlib::serialization_error& e) {
          throw InputError(path.string(), "", std::string("not a dlib FHOG detector of a supported version: ") + e.what());
        }
        dets.push_back(std::move(det));
        classes.push_back(c);
        windows.push_back({d.at("window").at(0).get<int>(), d.at("window").at(1).get<int>()});
      }
    });
    if (dets.empty()) throw InputError(file.string(), "detectors", "no detectors");
    detectors_ = std::move(dets);
    class_of_ = std::move(classes);
    windows_ = std::move(windows);
  }

 private:
  struct WindowSize {
    int width, height;
  };

  WindowSize window_for(std::vector<float> sizes, std::vector<float> aspects) const {
    std::sort(sizes.begin(), sizes.end());
    std::sort(aspects.begin(), aspects.end());
    const float a = aspects[aspects.size() / 2];
    const float p10 = sizes[sizes.size() / 10];
    const float side = std::clamp(p10, static_cast<float>(opts_.min_window), std::sqrt(float(opts_.window_area)));
    return {std::max(8, static_cast<int>(std::lround(side * std::sqrt(a)))),
            std::max(8, static_cast<int>(std::lround(side / std::sqrt(a))))};
  }

  DlibFhogOptions opts_;
  std::string config_hash_;
  std::vector<FhogDetector> detectors_;
  std::vector<int> class_of_;  // detector i detects class class_of_[i]
  std::vector<WindowSize> windows_;
};

}  // namespace

std::optional<FhogWindowEvidence> dlib_fhog_evidence(Detector& detector, const cv::Mat& bgr, const Box& window,
                                                     int label) {
  const auto* d = dynamic_cast<const DlibFhogDetector*>(&detector);
  if (d == nullptr) return std::nullopt;
  return d->evidence(bgr, window, label);
}

DlibFhogOptions parse_dlib_fhog(const Config& node, const std::vector<std::string>& class_names) {
  DlibFhogOptions o;
  o.class_names = class_names;
  if (class_names.empty()) throw InputError(node.file(), node.path(), "dlib_fhog needs the dataset's class names");
  o.C = static_cast<float>(get_real(node, "C", o.C, {0.0, kUnbounded, true}));
  o.epsilon = static_cast<float>(get_real(node, "epsilon", o.epsilon, {0.0, kUnbounded, true}));
  o.window_area = static_cast<int>(get_at_least(node, "window_area", o.window_area, 64));
  o.min_window = static_cast<int>(get_at_least(node, "min_window", o.min_window, 8));
  o.upsample = static_cast<int>(get_at_least(node, "upsample", o.upsample, 0));
  if (o.upsample > 2) config_error(node, "upsample", "must be 0, 1 or 2, got " + std::to_string(o.upsample));
  o.nuclear_norm = static_cast<float>(get_non_negative(node, "nuclear_norm", o.nuclear_norm));
  o.max_images = static_cast<int>(get_at_least(node, "max_images", o.max_images, 0));
  o.adjust_threshold =
      static_cast<float>(get_real(node, "adjust_threshold", o.adjust_threshold, {-kUnbounded, kUnbounded}));
  if (node.has("postprocess")) o.post = parse_postprocess(node.child("postprocess"));
  return o;
}

std::unique_ptr<Detector> make_dlib_fhog(const DlibFhogOptions& opts, const std::string& config_hash) {
  return std::make_unique<DlibFhogDetector>(opts, config_hash);
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// linear_svm: one-vs-rest linear SVMs with hard-negative mining rounds and optional ridge box regression.
#include "classifiers/linear_svm.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>

#include <opencv2/core.hpp>

#include "classifiers/svm_trainer.h"
#include "config/checked.h"
#include "core/error.h"
#include "pipeline/model_dir.h"
#include "pipeline/region_evidence.h"
#include "core/parallel.h"
#include "pipeline/training.h"

namespace detlab {

namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFile = "linear_svm.json";
/// Fewer regression samples than this give no regressor for the class (the ridge fit would be noise).
constexpr int kMinRegressionSamples = 10;

float sigmoid(float m) { return 1.f / (1.f + std::exp(-m)); }

class LinearSvmClassifier final : public ClassifierStage, public LinearScorer {
 public:
  explicit LinearSvmClassifier(const LinearSvmOptions& opts) : opts_(opts) {
    DETLAB_REQUIRE(opts.num_classes >= 1, "linear_svm needs at least one class", opts.num_classes);
  }

  std::string_view name() const override { return "linear_svm"; }
  int num_classes() const override { return opts_.num_classes; }

  /// Column c + 1 of classify() is sigmoid(w_c . x + b_c); an untrained class has an empty weight.
  LinearScore linear_score(int c) const override {
    DETLAB_REQUIRE(c >= 0 && c < static_cast<int>(models_.size()), "class out of range", c, models_.size());
    return {models_[static_cast<size_t>(c)].w, models_[static_cast<size_t>(c)].b, group_[static_cast<size_t>(c)]};
  }

  int64_t num_parameters() const override {
    int64_t n = 0;
    for (const LinearModel& m : models_) n += static_cast<int64_t>(m.w.size()) + (m.w.empty() ? 0 : 1);
    for (const RidgeRegressor& r : regressors_) n += r.empty() ? 0 : (r.w.rows + 1) * 4;
    return n;
  }

  RegionScores classify(const RegionFeatures& f) override {
    DETLAB_REQUIRE(!models_.empty(), "linear_svm is not trained (train it, or load a trained model)");
    DETLAB_REQUIRE(!f.device, "linear_svm needs host features (N x D CV_32F)");
    const int n = f.rows(), k = opts_.num_classes;
    RegionScores out;
    out.scores = cv::Mat::zeros(n, k + 1, CV_32F);
    if (has_regressors()) out.deltas = cv::Mat::zeros(n, 4 * k, CV_32F);
    if (n == 0) return out;
    DETLAB_REQUIRE(f.host.type() == CV_32F, "features must be CV_32F", f.host.type());
    // One matrix product per feature group: margins = X W + b for all of the group's classes at once, and
    // deltas = X R + r for their regressors.
    for (const GroupWeights& g : weights_) {
      DETLAB_REQUIRE(f.host.cols >= g.dim, "features shorter than the model", f.host.cols, g.dim);
      const cv::Mat x = f.host.colRange(0, g.dim);
      const cv::Mat margins = x * g.w;
      cv::Mat deltas;
      if (!g.r.empty()) deltas = x * g.r;
      for (int i = 0; i < n; ++i) {
        if (f.group(i) != g.group) continue;
        const float* m = margins.ptr<float>(i);
        for (size_t j = 0; j < g.classes.size(); ++j) {
          const int c = g.classes[j];
          out.scores.at<float>(i, c + 1) = sigmoid(m[j] + g.b.at<float>(0, static_cast<int>(j)));
          if (!deltas.empty() && !regressors_[c].empty())
            for (int q = 0; q < 4; ++q)
              out.deltas.at<float>(i, 4 * c + q) =
                  deltas.at<float>(i, 4 * static_cast<int>(j) + q) + g.rb.at<float>(0, 4 * static_cast<int>(j) + q);
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      float* row = out.scores.ptr<float>(i);
      float best = 0.f;
      for (int c = 1; c <= k; ++c) best = std::max(best, row[c]);
      row[0] = 1.f - best;
    }
    return out;
  }

  void fit(const ClassifierTrainContext& ctx) override {
    DETLAB_REQUIRE(ctx.source != nullptr, "ClassifierTrainContext::source is required");
    RegionSource& src = *ctx.source;
    DETLAB_REQUIRE(src.num_classes() == opts_.num_classes, "classifier built for another number of classes",
                   src.num_classes(), opts_.num_classes);
    const int k = opts_.num_classes;
    group_.resize(k);
    for (int c = 0; c < k; ++c) group_[c] = src.group_of_class(c);
    models_.clear();
    regressors_.assign(k, RidgeRegressor{});
    log_.clear();

    std::vector<ClassSamples> samples = collect_initial_samples(src, opts_.mining, ctx.seed);
    for (int c = 0; c < k; ++c)
      if (samples[c].positives.empty())
        std::cerr << "warning: linear_svm: class '" << src.class_names()[c]
                  << "' has no training boxes; it will never be detected\n";
    train_all(samples, ctx.threads, 0, std::vector<int>(k, 0));
    const ClassScorer scorer = [this](int c, const cv::Mat& rows) -> cv::Mat {
      const LinearModel& m = models_[c];
      if (m.w.empty()) return cv::Mat(rows.rows, 1, CV_32F, cv::Scalar(-std::numeric_limits<float>::infinity()));
      DETLAB_CHECK(rows.cols == static_cast<int>(m.w.size()), "feature length differs from the model", rows.cols);
      cv::Mat margins = rows * cv::Mat(static_cast<int>(m.w.size()), 1, CV_32F, const_cast<float*>(m.w.data()));
      return margins + m.b;
    };
    const bool regress = opts_.box_regression.enabled;
    for (int r = 1; r <= opts_.mining.rounds; ++r) {
      const auto added = mine_hard_negatives(src, opts_.mining, scorer, r, ctx.seed, samples,
                                             regress && r == opts_.mining.rounds ? &opts_.box_regression : nullptr);
      train_all(samples, ctx.threads, r, added);
    }
    if (regress) {
      if (opts_.mining.rounds == 0)  // no mining pass ran: one pass only to collect regression samples
        mine_hard_negatives(src, opts_.mining, scorer, 1, ctx.seed, samples, &opts_.box_regression);
      for (int c = 0; c < k; ++c)
        if (samples[c].reg_features.rows >= kMinRegressionSamples)
          regressors_[c] = fit_ridge(samples[c].reg_features, samples[c].reg_targets, opts_.box_regression.lambda);
    }
    build_weights();
    if (!ctx.out_dir.empty()) write_log(ctx.out_dir / "train_log.csv");
  }

  void save(const std::filesystem::path& dir) const override {
    DETLAB_REQUIRE(!models_.empty(), "linear_svm is not trained; nothing to save");
    nlohmann::json j;
    j["num_classes"] = opts_.num_classes;
    j["groups"] = group_;
    j["models"] = nlohmann::json::array();
    for (const LinearModel& m : models_) j["models"].push_back({{"w", m.w}, {"b", m.b}});
    j["regressors"] = nlohmann::json::array();
    for (const RidgeRegressor& r : regressors_) {
      if (r.empty()) {
        j["regressors"].push_back(nullptr);
        continue;
      }
      std::vector<float> w(r.w.begin<float>(), r.w.end<float>()), b(r.b.begin<float>(), r.b.end<float>());
      j["regressors"].push_back({{"w", w}, {"b", b}});
    }
    write_versioned_json(dir / kFile, "linear_svm", kFormatVersion, j);
  }

  void load(const std::filesystem::path& dir) override {
    const auto file = dir / kFile;
    const nlohmann::json j = read_versioned_json(file, "linear_svm", kFormatVersion);
    std::vector<LinearModel> models;
    std::vector<int> groups;
    std::vector<RidgeRegressor> regs;
    read_json_fields(file, [&] {
      if (j.at("num_classes").get<int>() != opts_.num_classes)
        throw InputError(file.string(), "num_classes",
                         "model has " + std::to_string(j.at("num_classes").get<int>()) + " classes, config " +
                             std::to_string(opts_.num_classes));
      groups = j.at("groups").get<std::vector<int>>();
      for (const auto& m : j.at("models")) models.push_back({m.at("w").get<std::vector<float>>(), m.at("b").get<float>()});
      for (const auto& r : j.at("regressors")) {
        RidgeRegressor rr;
        if (!r.is_null()) {
          const auto w = r.at("w").get<std::vector<float>>();
          const auto b = r.at("b").get<std::vector<float>>();
          if (w.size() % 4 != 0 || b.size() != 4) throw InputError(file.string(), "regressors", "bad shape");
          rr.w = cv::Mat(static_cast<int>(w.size() / 4), 4, CV_32F, const_cast<float*>(w.data())).clone();
          rr.b = cv::Mat(1, 4, CV_32F, const_cast<float*>(b.data())).clone();
        }
        regs.push_back(rr);
      }
    });
    if (static_cast<int>(models.size()) != opts_.num_classes || static_cast<int>(groups.size()) != opts_.num_classes ||
        static_cast<int>(regs.size()) != opts_.num_classes)
      throw InputError(file.string(), "models", "one model, group and regressor entry per class expected");
    for (int c = 0; c < opts_.num_classes; ++c)
      if (!regs[c].empty() && regs[c].w.rows != static_cast<int>(models[c].w.size()))
        throw InputError(file.string(), "regressors", "regressor length differs from the SVM's");
    models_ = std::move(models);
    group_ = std::move(groups);
    regressors_ = std::move(regs);
    build_weights();
  }

 private:
  /// The trained classes of one feature group, stacked for classify(): w is dim x |classes|, b 1 x |classes|;
  /// r is dim x 4|classes| and rb 1 x 4|classes| (zero columns for classes without a regressor), or empty.
  struct GroupWeights {
    int group = 0, dim = 0;
    std::vector<int> classes;
    cv::Mat w, b, r, rb;
  };

  void build_weights() {
    weights_.clear();
    std::map<int, std::vector<int>> by_group;
    for (int c = 0; c < opts_.num_classes; ++c)
      if (!models_[c].w.empty()) by_group[group_[c]].push_back(c);
    for (const auto& [group, classes] : by_group) {
      GroupWeights g;
      g.group = group;
      g.classes = classes;
      g.dim = static_cast<int>(models_[classes.front()].w.size());
      const int kg = static_cast<int>(classes.size());
      g.w = cv::Mat::zeros(g.dim, kg, CV_32F);
      g.b = cv::Mat::zeros(1, kg, CV_32F);
      bool any_regressor = false;
      for (int j = 0; j < kg; ++j) {
        const LinearModel& m = models_[classes[j]];
        DETLAB_CHECK(static_cast<int>(m.w.size()) == g.dim, "classes of one group must share a length", m.w.size(), g.dim);
        for (int d = 0; d < g.dim; ++d) g.w.at<float>(d, j) = m.w[d];
        g.b.at<float>(0, j) = m.b;
        any_regressor |= !regressors_[classes[j]].empty();
      }
      if (any_regressor) {
        g.r = cv::Mat::zeros(g.dim, 4 * kg, CV_32F);
        g.rb = cv::Mat::zeros(1, 4 * kg, CV_32F);
        for (int j = 0; j < kg; ++j) {
          const RidgeRegressor& rr = regressors_[classes[j]];
          if (rr.empty()) continue;
          rr.w.copyTo(g.r.colRange(4 * j, 4 * j + 4));
          rr.b.copyTo(g.rb.colRange(4 * j, 4 * j + 4));
        }
      }
      weights_.push_back(std::move(g));
    }
  }

  bool has_regressors() const {
    for (const RidgeRegressor& r : regressors_)
      if (!r.empty()) return true;
    return false;
  }

  void train_all(const std::vector<ClassSamples>& samples, int threads, int round, const std::vector<int>& added) {
    const int k = opts_.num_classes;
    std::vector<LinearModel> models(k);
    std::vector<double> seconds(k, 0.0);
    SvmTrainOptions so;
    so.c_positive = opts_.C * opts_.positive_weight;
    so.c_negative = opts_.C;
    so.epsilon = opts_.epsilon;
    so.max_iterations = opts_.max_iterations;
    parallel_for(k, threads, [&](int c, int) {
      const ClassSamples& s = samples[c];
      if (s.positives.empty() || s.negatives.empty()) return;
      const auto t0 = std::chrono::steady_clock::now();
      cv::Mat x;
      cv::vconcat(s.positives, s.negatives, x);
      std::vector<int> y(x.rows, -1);
      std::fill(y.begin(), y.begin() + s.positives.rows, 1);
      models[c] = train_linear_svm(x, y, so);
      seconds[c] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    });
    models_ = std::move(models);
    for (int c = 0; c < k; ++c) {
      const ClassSamples& s = samples[c];
      int pos_err = 0, neg_err = 0;
      if (!models_[c].w.empty()) {
        for (int i = 0; i < s.positives.rows; ++i) pos_err += models_[c].score(s.positives.ptr<float>(i)) <= 0;
        for (int i = 0; i < s.negatives.rows; ++i) neg_err += models_[c].score(s.negatives.ptr<float>(i)) > 0;
      }
      log_.push_back({round, c, s.positives.rows, s.negatives.rows, added[c], pos_err, neg_err, seconds[c]});
    }
  }

  void write_log(const std::filesystem::path& file) const {
    std::ofstream out(file);
    out << "round,class,positives,negatives,new_negatives,positive_errors,negative_errors,svm_seconds\n";
    for (const LogRow& r : log_)
      out << r.round << "," << r.cls << "," << r.pos << "," << r.neg << "," << r.added << "," << r.pos_err << ","
          << r.neg_err << "," << r.seconds << "\n";
  }

  struct LogRow {
    int round, cls, pos, neg, added, pos_err, neg_err;
    double seconds;
  };

  LinearSvmOptions opts_;
  std::vector<LinearModel> models_;      // per class; empty w = no training boxes
  std::vector<int> group_;               // feature group of each class
  std::vector<RidgeRegressor> regressors_;  // per class; empty = none
  std::vector<GroupWeights> weights_;       // derived from the above by build_weights()
  std::vector<LogRow> log_;
};

}  // namespace

LinearSvmOptions parse_linear_svm(const Config& node, int num_classes) {
  LinearSvmOptions o;
  o.num_classes = num_classes;
  o.C = static_cast<float>(get_real(node, "C", o.C, {0.0, kUnbounded, true}));
  o.positive_weight = static_cast<float>(get_real(node, "positive_weight", o.positive_weight, {0.0, kUnbounded, true}));
  o.epsilon = static_cast<float>(get_real(node, "epsilon", o.epsilon, {0.0, kUnbounded, true}));
  o.max_iterations = static_cast<int>(get_at_least(node, "max_iterations", o.max_iterations, 1));
  if (node.has("mining")) o.mining = parse_mining(node.child("mining"));
  if (node.has("box_regression")) {
    const Config r = node.child("box_regression");
    o.box_regression.enabled = r.get<bool>("enabled", true);
    auto& b = o.box_regression;
    b.lambda = static_cast<float>(get_real(r, "lambda", b.lambda, {0.0, kUnbounded, true}));
    b.min_iou = static_cast<float>(get_real(r, "min_iou", b.min_iou, {0.0, 1.0, true}));
    b.max_samples = static_cast<int>(get_at_least(r, "max_samples", b.max_samples, 1));
  }
  if (num_classes < 1) throw InputError(node.file(), node.path(), "linear_svm needs the dataset's classes");
  return o;
}

std::unique_ptr<ClassifierStage> make_linear_svm(const LinearSvmOptions& opts) {
  return std::make_unique<LinearSvmClassifier>(opts);
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the training loop: resume equality, non-finite stop, clipping, refusal to overwrite, options.
#include "catch_torch.h"

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include <torch/cuda.h>

#include "config/config.h"
#include "core/error.h"
#include "nn/weights/weight_file.h"
#include "train/checkpoint.h"
#include "pipeline/runtime.h"
#include "train/engine.h"
#include "tensor/runtime.h"
#include "train/train_log.h"
#include "core/atomic_file.h"
#include "pipeline/detector.h"
#include "train_fixtures.h"

using namespace detlab;
using namespace detlab::test;

namespace {

TrainOptions tiny_options() {
  TrainOptions o;
  o.iterations = 12;
  o.loader.batch_size = 2;
  o.loader.workers = 2;
  o.loader.jitter_min = 0.8f;
  o.loader.jitter_max = 1.2f;
  o.optimizer.lr = 0.05;
  o.schedule.warmup_iters = 3;
  o.schedule.milestones = {8};
  o.checkpoint_every = 4;
  o.log_every = 3;
  return o;
}

EngineContext context(const std::filesystem::path& dir, uint64_t seed = 7) {
  EngineContext c;
  c.out_dir = dir;
  c.seed = seed;
  c.quiet = true;
  return c;
}

/// Log rows without the time column.
std::vector<std::vector<std::string>> rows_without_time(const std::filesystem::path& file) {
  auto rows = TrainLog::read(file);
  for (auto& r : rows) r.pop_back();
  return rows;
}

/// Uninterrupted vs killed after `kill_at` losses() calls and resumed with a freshly built model.
void check_resume_equality(const TrainOptions& o, int kill_at, int64_t expect_resume_from) {
  const Dataset ds = box_dataset(9, 40, 32, 11, 2, /*vary_size=*/true);  // 5 batches per epoch, last of 1
  const auto dir_a = temp_dir("resume_a"), dir_b = temp_dir("resume_b");

  seed_everything(1);
  TinyTrainable a;
  std::set<int64_t> epochs_a, epochs_b;  // a resumed run repeats the epoch ends after its checkpoint
  EngineContext ca = context(dir_a);
  ca.on_epoch_end = [&](int64_t e, int64_t) { epochs_a.insert(e); };
  const TrainResult ra = train(a, ds, o, ca);
  CHECK(ra.start_iteration == 0);
  CHECK(ra.iterations == (o.iterations > 0 ? o.iterations : o.epochs * 5));

  seed_everything(1);
  TinyTrainable killed;
  killed.kill_at = kill_at;
  EngineContext cb = context(dir_b);
  cb.on_epoch_end = [&](int64_t e, int64_t) { epochs_b.insert(e); };
  CHECK_THROWS_WITH(train(killed, ds, o, cb), "simulated kill");
  CHECK_FALSE(std::filesystem::exists(dir_b / "model_final.pt"));

  seed_everything(12345);  // the new process builds its model with other random weights
  TinyTrainable resumed;
  cb.resume = true;
  const TrainResult rb = train(resumed, ds, o, cb);
  CHECK(rb.start_iteration == expect_resume_from);
  CHECK(epochs_a == epochs_b);
  CHECK(static_cast<int64_t>(epochs_a.size()) == ra.iterations / 5);

  CHECK(same_state(a.module(), resumed.module()));
  TinyTrainable fa, fb;
  load_weights(fa.module(), (dir_a / "model_final.pt").string());  // nn/weights state dict files
  load_weights(fb.module(), (dir_b / "model_final.pt").string());
  CHECK(same_state(fa.module(), fb.module()));
  CHECK(same_state(fa.module(), a.module()));
  const auto log_a = rows_without_time(dir_a / "train_log.csv"), log_b = rows_without_time(dir_b / "train_log.csv");
  CHECK(log_a.size() == static_cast<size_t>(1 + (ra.iterations + o.log_every - 1) / o.log_every));
  CHECK(log_a == log_b);
  std::filesystem::remove_all(dir_a);
  std::filesystem::remove_all(dir_b);
}

}  // namespace

TEST_CASE("a killed and resumed run ends bitwise equal to an uninterrupted one (SGD, step)", "[train][engine]") {
  // Killed in iteration 11: checkpoints at 4 and 8 exist, log rows 3, 6, 9 were written (9 must be dropped).
  check_resume_equality(tiny_options(), 11, 8);
}

TEST_CASE("resume equality with AdamW, cosine, clipping and epochs", "[train][engine]") {
  TrainOptions o = tiny_options();
  o.iterations = 0;
  o.epochs = 3;  // 15 iterations
  o.optimizer.type = OptimizerOptions::Type::kAdamW;
  o.optimizer.lr = 0.003;
  o.optimizer.decay_norm_and_bias = false;
  o.schedule.type = ScheduleOptions::Type::kCosine;
  o.schedule.milestones.clear();
  o.clip_grad_norm = 0.5;
  o.loader.workers = 0;
  o.checkpoint_every = 5;
  o.log_every = 4;
  check_resume_equality(o, 8, 5);  // killed right after the epoch-1 checkpoint, mid log window
}

TEST_CASE("a non-finite loss stops the run naming the iteration and keeps the last good checkpoint",
          "[train][engine]") {
  const Dataset ds = box_dataset(6, 32, 32);
  const auto dir = temp_dir("nan");
  TrainOptions o = tiny_options();
  o.checkpoint_every = 5;
  TinyTrainable m;
  m.nan_at = 7;
  try {
    train(m, ds, o, context(dir));
    FAIL("no exception");
  } catch (const NonFiniteLossError& e) {
    CHECK(e.iteration() == 7);
    CHECK_THAT(e.what(), Catch::Contains("iteration 7") && Catch::Contains("loss_box = nan") &&
                             Catch::Contains("ckpt_00000005.pt"));
  }
  CheckpointDir cd(dir / "checkpoints");
  REQUIRE(cd.latest().has_value());
  CHECK(cd.latest()->filename() == "ckpt_00000005.pt");
  CHECK_FALSE(std::filesystem::exists(dir / "model_final.pt"));
  TinyTrainable fresh;
  const TrainProgress p = load_checkpoint(*cd.latest(), fresh.module(), nullptr);
  CHECK(p.iteration == 5);
  for (const auto& t : fresh.module().parameters()) CHECK(torch::isfinite(t).all().item<bool>());
  CHECK(TrainLog::read(dir / "train_log.csv").size() == 3);  // header, rows 3 and 6

  TinyTrainable early;
  early.nan_at = 2;
  const auto dir2 = temp_dir("nan_early");
  CHECK_THROWS_WITH(train(early, ds, o, context(dir2)), Catch::Contains("iteration 2") && Catch::Contains("No checkpoint"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir2);
}

TEST_CASE("a corrupt checkpoint is refused by its checksum, resume falls back to the previous one and says so",
          "[train][engine]") {
  const Dataset ds = box_dataset(9, 40, 32, 11, 2, /*vary_size=*/true);
  const auto dir = temp_dir("corrupt");
  const TrainOptions o = tiny_options();  // checkpoints at 4 and 8 of 12
  seed_everything(1);
  TinyTrainable killed;
  killed.kill_at = 10;
  CHECK_THROWS_WITH(train(killed, ds, o, context(dir)), "simulated kill");
  CheckpointDir cd(dir / "checkpoints");
  REQUIRE(cd.all().size() == 2);
  const std::filesystem::path latest = *cd.latest();
  CHECK(latest.filename() == "ckpt_00000008.pt");
  std::string bytes = read_file(latest);
  const std::string good = bytes;
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);  // one flipped bit in the archive
  write_file_atomic(latest, bytes);
  TinyTrainable probe;
  CHECK_THROWS_WITH(load_checkpoint(latest, probe.module(), nullptr),
                    Catch::Contains("ckpt_00000008.pt") && Catch::Contains("checksum"));
  write_file_atomic(latest, good.substr(0, good.size() - 7));  // truncated
  CHECK_THROWS_WITH(load_checkpoint(latest, probe.module(), nullptr), Catch::Contains("ckpt_00000008.pt"));

  std::ostringstream err;
  auto* old = std::cerr.rdbuf(err.rdbuf());
  TinyTrainable resumed;
  EngineContext c = context(dir);
  c.resume = true;
  TrainResult r;
  try {
    r = train(resumed, ds, o, c);
  } catch (...) {
    std::cerr.rdbuf(old);
    throw;
  }
  std::cerr.rdbuf(old);
  CHECK(r.start_iteration == 4);
  CHECK_THAT(err.str(), Catch::Contains("ckpt_00000008.pt") && Catch::Contains("falling back"));
  std::filesystem::remove_all(dir);
}

namespace {
/// loss = c . p with c = [3, 4]: the gradient is c, of norm 5. With `nan_grad`, loss = sum(sqrt(0 * p)), which is
/// 0 while its gradient is NaN.
class DotTrainable : public Trainable {
 public:
  explicit DotTrainable(bool nan_grad = false) : nan_grad_(nan_grad) {
    p_ = module_.register_parameter("p", torch::tensor({1.0f, 2.0f}));
  }
  torch::nn::Module& module() override { return module_; }
  TransformOptions input_transform() const override {
    TransformOptions t;
    t.min_size = 0;  // the images are not used
    return t;
  }
  std::map<std::string, torch::Tensor> losses(const Batch&) override {
    if (nan_grad_) return {{"loss", torch::sqrt(p_ * 0).sum()}};
    return {{"loss", (p_ * torch::tensor({3.0f, 4.0f})).sum()}};
  }
  torch::Tensor p_;

 private:
  torch::nn::Module module_;
  bool nan_grad_;
};
}  // namespace

TEST_CASE("gradient clipping scales the global norm, a NaN gradient stops the run", "[train][engine]") {
  const Dataset ds = box_dataset(2, 16, 16);
  TrainOptions o;
  o.iterations = 1;
  o.loader.batch_size = 1;
  o.loader.workers = 0;
  o.optimizer.lr = 1.0;
  o.optimizer.momentum = 0;
  o.optimizer.weight_decay = 0;
  o.schedule.type = ScheduleOptions::Type::kConstant;
  o.clip_grad_norm = 1.0;
  const auto dir = temp_dir("clip");
  DotTrainable m;
  train(m, ds, o, context(dir));
  // Gradient [3, 4] (norm 5) clipped to norm 1: [0.6, 0.8]; p -= 1.0 * that.
  CHECK(m.p_[0].item<float>() == Approx(1 - 0.6).epsilon(1e-6));
  CHECK(m.p_[1].item<float>() == Approx(2 - 0.8).epsilon(1e-6));

  DotTrainable bad(true);
  CHECK_THROWS_WITH(train(bad, ds, o, context(temp_dir("clip_nan"))),
                    Catch::Contains("non-finite gradient norm at iteration 1"));
  std::filesystem::remove_all(dir);
}

namespace {
/// Trains `a` by loss = c . a; at call `poison_at` it sets the unused parameter `b` to infinity: loss and gradients
/// stay finite while the weights do not.
class PoisonTrainable : public Trainable {
 public:
  PoisonTrainable() {
    a_ = module_.register_parameter("a", torch::tensor({1.0f, 2.0f}));
    b_ = module_.register_parameter("b", torch::tensor({0.0f}));
  }
  torch::nn::Module& module() override { return module_; }
  TransformOptions input_transform() const override {
    TransformOptions t;
    t.min_size = 0;
    return t;
  }
  std::map<std::string, torch::Tensor> losses(const Batch&) override {
    if (++calls_ == poison_at) {
      torch::NoGradGuard no_grad;
      b_.fill_(std::numeric_limits<float>::infinity());
    }
    return {{"loss", (a_ * torch::tensor({3.0f, 4.0f})).sum()}};
  }
  int poison_at = 0;

 private:
  torch::nn::Module module_;
  torch::Tensor a_, b_;
  int calls_ = 0;
};
}  // namespace

TEST_CASE("non-finite weights are never written as a checkpoint", "[train][engine]") {
  const Dataset ds = box_dataset(4, 16, 16);
  TrainOptions o;
  o.iterations = 12;
  o.loader.batch_size = 1;
  o.loader.workers = 0;
  o.optimizer.lr = 0.001;
  o.checkpoint_every = 4;
  const auto dir = temp_dir("poison");
  PoisonTrainable m;
  m.poison_at = 6;
  try {
    train(m, ds, o, context(dir));
    FAIL("no exception");
  } catch (const NonFiniteLossError& e) {
    CHECK(e.iteration() == 8);
    CHECK_THAT(e.what(), Catch::Contains("non-finite parameter values after iteration 8") &&
                             Catch::Contains("ckpt_00000004.pt"));
  }
  CHECK(CheckpointDir(dir / "checkpoints").latest()->filename() == "ckpt_00000004.pt");
  std::filesystem::remove_all(dir);
}

TEST_CASE("make_engine_context carries the fit() settings over", "[train][engine]") {
  TrainContext tc;
  tc.out_dir = "runs/x";
  tc.device = "cuda";
  tc.threads = 3;
  tc.seed = 11;
  tc.resume = true;
  const EngineContext e = make_engine_context(tc);
  CHECK(e.out_dir == "runs/x");
  CHECK(e.device == "cuda");
  CHECK(e.threads == 3);
  CHECK(e.seed == 11);
  CHECK(e.resume);
}

TEST_CASE("a trainer asked for other threads gets them for the call and hands the command's count back",
          "[train][engine]") {
  const Dataset ds = box_dataset(4, 32, 32);
  TrainOptions o = tiny_options();
  o.iterations = 2;
  TinyTrainable m;
  set_library_threads(2);  // what the command applied
  EngineContext one = context(temp_dir("threads"));
  one.threads = 1;
  train(m, ds, o, one);
  CHECK(library_threads().torch == 2);
  CHECK(library_threads().matches(2));
}

TEST_CASE("networks run with OpenBLAS on one thread beside LibTorch's pool, classical code with all of them",
          "[train][engine]") {
  set_library_threads(2);
  const int blas = library_threads().openblas;  // 0 when this LibTorch does not use OpenBLAS
  {
    const ScopedNetworkThreads network;
    CHECK(library_threads().openblas == (blas > 0 ? 1 : 0));
    CHECK(library_threads().torch == 2);
    const ScopedNetworkThreads nested;
    CHECK(library_threads().openblas == (blas > 0 ? 1 : 0));
  }
  CHECK(library_threads().matches(2));
}

TEST_CASE("the engine refuses to overwrite a run, to resume with another seed, and unknown devices",
          "[train][engine]") {
  const Dataset ds = box_dataset(4, 32, 32);
  const auto dir = temp_dir("refuse");
  TrainOptions o = tiny_options();
  o.iterations = 2;
  TinyTrainable m;
  const TrainResult r = train(m, ds, o, context(dir));
  CHECK(std::filesystem::exists(r.final_weights));
  CHECK(r.images_per_second > 0);
  CHECK(r.last_losses.count("loss_box") == 1);
  CHECK_THROWS_WITH(train(m, ds, o, context(dir)), Catch::Contains("--resume"));
  EngineContext other_seed = context(dir, 8);
  other_seed.resume = true;
  CHECK_THROWS_WITH(train(m, ds, o, other_seed), Catch::Contains("seed 7") && Catch::Contains("uses 8"));
  EngineContext done = context(dir);
  done.resume = true;  // already finished: nothing to do, the final weights are written again
  CHECK(train(m, ds, o, done).start_iteration == 2);

  EngineContext dev = context(temp_dir("refuse_dev"));
  dev.device = "tpu";
  CHECK_THROWS_WITH(train(m, ds, o, dev), Catch::Contains("--device") && Catch::Contains("tpu"));
  if (!torch::cuda::is_available()) {
    dev.device = "cuda";
    CHECK_THROWS_WITH(train(m, ds, o, dev), Catch::Contains("--device") && Catch::Contains("no CUDA"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("training lowers the loss of the tiny model", "[train][engine]") {
  const Dataset ds = box_dataset(16, 40, 32);
  const auto dir = temp_dir("learn");
  TrainOptions o = tiny_options();
  o.iterations = 80;
  o.log_every = 20;
  o.checkpoint_every = 1000;
  o.schedule.milestones = {60};
  seed_everything(3);
  TinyTrainable m;
  train(m, ds, o, context(dir));
  const auto rows = TrainLog::read(dir / "train_log.csv");
  REQUIRE(rows.size() == 5);
  // The box regression is what this net can learn (measured: 0.053 -> 0.018); the class of the first object
  // is ambiguous on images with two objects, so its loss is noisy.
  CHECK(std::stod(rows[4][2]) < 0.5 * std::stod(rows[1][2]));  // loss_box column
  std::filesystem::remove_all(dir);
}

TEST_CASE("parse_train_options reads the train node and rejects unknown keys", "[train][engine]") {
  Config c = Config::parse(
      "optimizer: sgd\nlr: 0.02\nmomentum: 0.9\nweight_decay: 0.0001\nepochs: 12\nbatch_size: 4\n"
      "warmup_iters: 100\nwarmup_factor: 0.001\nschedule: step\nmilestones: [8, 11]\ngamma: 0.1\n"
      "clip_grad_norm: 10\ncheckpoint_every: 200\nlog_every: 10\nkeep_checkpoints: 3\n"
      "loader: {workers: 3, hflip_prob: 0.5, scale_jitter: [0.9, 1.1]}\n");
  const TrainOptions o = parse_train_options(c);
  CHECK(o.optimizer.lr == 0.02);
  CHECK(o.epochs == 12);
  CHECK(o.iterations == 0);
  CHECK(o.loader.batch_size == 4);
  CHECK(o.loader.workers == 3);
  CHECK(o.loader.jitter_max == 1.1f);
  CHECK(o.schedule.milestones_in_epochs);
  CHECK(o.clip_grad_norm == 10);
  CHECK(o.checkpoint_every == 200);
  CHECK(o.log_every == 10);
  CHECK(o.keep_checkpoints == 3);
  CHECK_THROWS_WITH(parse_train_options(Config::parse("iterations: 10\nlearning_rate: 0.1")),
                    Catch::Contains("learning_rate"));
  CHECK_THROWS_WITH(parse_train_options(Config::parse("lr: 0.1")), Catch::Contains("epochs and iterations"));
  CHECK_THROWS_WITH(parse_train_options(Config::parse("epochs: 1\niterations: 5")), Catch::Contains("exactly one"));
  CHECK_THROWS_WITH(parse_train_options(Config::parse("iterations: 0")), Catch::Contains("iterations"));
}

TEST_CASE("training on CUDA moves the model and batches", "[train][engine][.gpu]") {
  // Asked for ([.gpu] runs only by name or tag): without CUDA that is a failure, not a pass.
  REQUIRE(torch::cuda::is_available());
  const Dataset ds = box_dataset(6, 40, 32);
  const auto dir = temp_dir("cuda");
  TrainOptions o = tiny_options();
  o.iterations = 6;
  EngineContext c = context(dir);
  c.device = "cuda";
  TinyTrainable m;
  const TrainResult r = train(m, ds, o, c);
  CHECK(m.module().parameters()[0].device().is_cuda());
  CHECK(std::isfinite(r.last_losses.at("loss_box")));
  TinyTrainable cpu;
  load_weights(cpu.module(), r.final_weights.string());  // weights files are device-independent
  for (const auto& t : cpu.module().parameters()) CHECK(torch::isfinite(t).all().item<bool>());
  std::filesystem::remove_all(dir);
}

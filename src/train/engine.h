// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The training loop: loader, losses, non-finite check, backward, clipping, step, schedule, log, checkpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "train/loader.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "train/trainable.h"

namespace detlab {

class Config;
struct Dataset;

/// What to train for and how (the `detector.train` node of an experiment config).
struct TrainOptions {
  OptimizerOptions optimizer;
  ScheduleOptions schedule;
  LoaderOptions loader;          // its transform is replaced by Trainable::input_transform()
  int64_t epochs = 0;            // exactly one of epochs / iterations is > 0
  int64_t iterations = 0;
  double clip_grad_norm = 0;     // > 0: clip the global L2 norm of the gradients to this
  int64_t checkpoint_every = 500;  // iterations between checkpoints (a checkpoint is always written at the end)
  int64_t log_every = 20;        // iterations per train_log.csv row (losses averaged over them)
  int keep_checkpoints = 2;      // newest checkpoints kept on disk; 0 keeps all
};

/// Keys: optimizer, lr, momentum, nesterov, weight_decay, betas, eps, decay_norm_and_bias (optim.h);
/// schedule, warmup_iters, warmup_factor, milestones, gamma, final_lr_factor (schedule.h); epochs |
/// iterations; batch_size; clip_grad_norm; checkpoint_every; log_every; keep_checkpoints; loader {...}
/// (parse_loader). InputError naming the dotted key on a bad or missing value.
TrainOptions parse_train_options(const Config& node);

/// Where and how this run executes (command-line settings rather than the experiment's config).
struct EngineContext {
  std::filesystem::path out_dir;  // train_log.csv, checkpoints/, model_final.pt (a state dict, see nn/weights)
  std::string device = "cpu";     // cpu | cuda | cuda:<i>
  int threads = 0;                // > 0: library threads during this call (ScopedLibraryThreads); 0: as set
  uint64_t seed = 0;
  bool resume = false;            // continue from out_dir/checkpoints/latest (a fresh start if there is none)
  bool quiet = false;             // no progress bar
  /// Called after every completed epoch with (epoch count, iteration), e.g. to validate; the module is put
  /// back in training mode afterwards.
  std::function<void(int64_t epochs_done, int64_t iteration)> on_epoch_end;
};

struct TrainContext;

/// The engine context of a Detector::fit() call (pipeline/detector.h): out_dir, device, threads, seed and
/// resume carried over; quiet when progress bars are off (--quiet). on_epoch_end is left to the detector.
EngineContext make_engine_context(const TrainContext& ctx);

struct TrainResult {
  int64_t start_iteration = 0;   // > 0 when resumed
  int64_t iterations = 0;        // total steps of the run
  double seconds = 0;            // wall time of this call
  double images_per_second = 0;  // images trained in this call / seconds
  std::map<std::string, double> last_losses;  // losses of the last iteration (empty if none ran)
  std::filesystem::path final_weights;        // out_dir/model_final.pt (nn/weights/weight_file.h state dict)
  std::filesystem::path last_checkpoint;
};

/// A loss or gradient norm that is NaN or infinite. Nothing is written for the failing iteration, so the
/// newest checkpoint is the last good state.
class NonFiniteLossError : public std::runtime_error {
 public:
  NonFiniteLossError(int64_t iteration, const std::string& message)
      : std::runtime_error(message), iteration_(iteration) {}
  int64_t iteration() const { return iteration_; }  // 1-based number of the iteration that failed

 private:
  int64_t iteration_;
};

/// Trains `model` on `train_set`.
///
/// Reproducibility: on the CPU with the same seed, thread count and inputs, a run interrupted at any point
/// and continued with resume = true ends with bitwise the same weights and train_log.csv rows (time column
/// aside) as an uninterrupted run: the batch stream is a pure function of (seed, epoch, position), the
/// checkpoint holds the optimizer state, progress, log window and LibTorch's CPU generator state.
/// (CUDA kernels are not deterministic in general and CUDA generator state is not checkpointed.)
///
/// requires: the model's module is on the CPU and freshly built (or loaded); the engine moves it to
/// ctx.device. With resume == false, out_dir must hold no checkpoint (InputError: pass resume or use another
/// folder), so that a run never silently overwrites another.
/// Throws NonFiniteLossError, InputError (bad data, unusable checkpoint, CUDA unavailable), or whatever the
/// model throws; the newest checkpoint stays loadable in every case.
TrainResult train(Trainable& model, const Dataset& train_set, const TrainOptions& opts, const EngineContext& ctx);

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train(): the training loop and its bookkeeping (resume, log, checkpoints, non-finite stop).
#include "train/engine.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

#include <torch/nn/utils/clip_grad.h>

#include "config/config.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "pipeline/detector.h"
#include "pipeline/runtime.h"
#include "nn/weights/weight_file.h"
#include "train/checkpoint.h"
#include "tensor/runtime.h"
#include "train/train_log.h"

namespace detlab {

namespace fs = std::filesystem;

TrainOptions parse_train_options(const Config& node) {
  TrainOptions o;
  o.optimizer = parse_optimizer(node);
  o.schedule = parse_schedule(node);
  if (node.has("loader")) o.loader = parse_loader(node.child("loader"));
  o.loader.batch_size = node.get<int>("batch_size", o.loader.batch_size);
  if (node.has("epochs") == node.has("iterations"))
    throw InputError(node.file(), node.child_path("epochs"), "set exactly one of epochs and iterations");
  o.epochs = node.get<int64_t>("epochs", 0);
  o.iterations = node.get<int64_t>("iterations", 0);
  o.clip_grad_norm = node.get<double>("clip_grad_norm", o.clip_grad_norm);
  o.checkpoint_every = node.get<int64_t>("checkpoint_every", o.checkpoint_every);
  o.log_every = node.get<int64_t>("log_every", o.log_every);
  o.keep_checkpoints = node.get<int>("keep_checkpoints", o.keep_checkpoints);
  auto positive = [&](const char* key, bool ok) {
    if (!ok) throw InputError(node.file(), node.child_path(key), "must be positive");
  };
  positive(node.has("epochs") ? "epochs" : "iterations", o.epochs > 0 || o.iterations > 0);
  positive("batch_size", o.loader.batch_size > 0);
  positive("checkpoint_every", o.checkpoint_every > 0);
  positive("log_every", o.log_every > 0);
  if (!(o.clip_grad_norm >= 0)) throw InputError(node.file(), node.child_path("clip_grad_norm"), "must be >= 0 (0: off)");
  if (o.keep_checkpoints < 0) throw InputError(node.file(), node.child_path("keep_checkpoints"), "must be >= 0 (0: all)");
  node.expect_consumed();
  return o;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

/// The run's identity as stored in a checkpoint must match the resuming run's, or the batches would differ.
void check_same_run(const fs::path& file, const TrainProgress& saved, const TrainProgress& now) {
  auto mismatch = [&](const char* field, const std::string& was, const std::string& is) {
    throw InputError(file.string(), field,
                     "the checkpoint was written with " + std::string(field) + " " + was + ", this run uses " + is +
                         " (resume with the same settings, or start a new output folder)");
  };
  if (saved.seed != now.seed) mismatch("seed", std::to_string(saved.seed), std::to_string(now.seed));
  if (saved.batch_size != now.batch_size)
    mismatch("batch_size", std::to_string(saved.batch_size), std::to_string(now.batch_size));
  if (saved.dataset_size != now.dataset_size)
    mismatch("dataset_size", std::to_string(saved.dataset_size), std::to_string(now.dataset_size));
  if (saved.iteration > now.total_iterations)
    mismatch("iteration", std::to_string(saved.iteration), "a total of " + std::to_string(now.total_iterations));
}

/// The sentence every "training stopped" error ends with.
std::string last_good(const fs::path& last_checkpoint) {
  return last_checkpoint.empty() ? std::string("No checkpoint was written before it.")
                                 : "The last good checkpoint is " + last_checkpoint.string() + ".";
}

/// Where a run starts: the latest checkpoint of `checkpoints` loaded into module and optimizer (refused unless
/// ctx.resume, and only for the same run), else `fresh` with the process seeded. Sets result.last_checkpoint.
TrainProgress resume_or_start(CheckpointDir& checkpoints, torch::nn::Module& module, GroupedOptimizer& optimizer,
                              const torch::Device& device, const TrainProgress& fresh, const EngineContext& ctx,
                              TrainResult& result) {
  const std::optional<fs::path> latest = checkpoints.latest();
  if (!latest) {
    if (ctx.resume && !ctx.quiet)
      std::cerr << "no checkpoint in " << checkpoints.dir().string() << "; starting a new run\n";
    seed_everything(ctx.seed);
    return fresh;
  }
  if (!ctx.resume)
    throw InputError(latest->string(), "",
                     "the output folder already holds a checkpoint: pass --resume to continue that run, or choose "
                     "another output folder");
  // The latest checkpoint first; when it is corrupt (a checksum mismatch, a truncated file), the next older
  // one, saying so. A checkpoint of another run is refused, not skipped.
  std::vector<fs::path> candidates{*latest};
  for (const fs::path& older : checkpoints.all())
    if (older != *latest) candidates.push_back(older);
  std::optional<InputError> first_error;
  for (const fs::path& file : candidates) {
    TrainProgress saved;
    try {
      saved = load_checkpoint(file, module, &optimizer, device);
    } catch (const InputError& e) {
      if (!first_error) first_error = e;
      continue;
    }
    check_same_run(file, saved, fresh);
    saved.total_iterations = fresh.total_iterations;
    result.last_checkpoint = file;
    if (first_error)
      std::cerr << "warning: " << first_error->what() << "; falling back to the last good checkpoint\n";
    if (!ctx.quiet) std::cerr << "resuming from " << file.string() << " (iteration " << saved.iteration << ")\n";
    return saved;
  }
  throw *first_error;
}

/// The loss values of one step, read back with one device sync.
struct StepLosses {
  std::map<std::string, double> values;
  double total = 0;
};

/// One optimizer step on `batch` (iteration `it`, 0-based): the sum of the model's losses backward, gradient
/// clipping when clip_grad_norm > 0, the update. A non-finite loss or gradient norm throws NonFiniteLossError
/// before the weights change.
StepLosses train_step(Trainable& model, GroupedOptimizer& optimizer, const Batch& batch, double clip_grad_norm,
                      int64_t it, const fs::path& last_checkpoint) {
  const std::map<std::string, torch::Tensor> losses = model.losses(batch);
  DETLAB_CHECK(!losses.empty(), "Trainable::losses returned no loss at iteration", it + 1);
  torch::Tensor total_loss;
  std::vector<torch::Tensor> parts;
  for (const auto& [name, t] : losses) {
    TORCH_CHECK(t.defined() && t.numel() == 1, "loss '", name, "' must be a scalar tensor");
    const torch::Tensor s = t.reshape({});
    total_loss = total_loss.defined() ? total_loss + s : s;
    parts.push_back(s.detach().to(torch::kFloat64));
  }
  parts.push_back(total_loss.detach().to(torch::kFloat64));
  const torch::Tensor host = torch::stack(parts).to(torch::kCPU);  // one device sync for all values
  const double* v = host.data_ptr<double>();

  StepLosses out;
  size_t k = 0;
  for (const auto& kv : losses) out.values[kv.first] = v[k++];
  out.total = v[k];
  if (!std::isfinite(out.total)) {
    std::ostringstream msg;
    msg << "non-finite loss at iteration " << it + 1 << ":";
    for (const auto& [name, x] : out.values) msg << " " << name << " = " << x;
    msg << "; training stopped. " << last_good(last_checkpoint);
    throw NonFiniteLossError(it + 1, msg.str());
  }

  optimizer.zero_grad();
  total_loss.backward();
  if (clip_grad_norm > 0) {
    const double norm = torch::nn::utils::clip_grad_norm_(optimizer.parameters(), clip_grad_norm);
    if (!std::isfinite(norm))
      throw NonFiniteLossError(it + 1, "non-finite gradient norm at iteration " + std::to_string(it + 1) +
                                           " (loss " + format_value(out.total) + "); training stopped. " +
                                           last_good(last_checkpoint));
  }
  optimizer.step();
  return out;
}

/// Appends one row of train_log.csv: the mean of each loss over the steps since the previous row (which
/// progress.log_sums / log_count hold, so that a resumed run continues the same means), then clears them.
void append_log_row(TrainLog& log, TrainProgress& progress, int64_t done, int64_t epoch, double lr,
                    double elapsed_seconds) {
  TrainLogRow row;
  row.iteration = done;
  row.epoch = epoch;
  for (const auto& [name, sum] : progress.log_sums) {
    row.losses[name] = sum / static_cast<double>(progress.log_count);
    row.total += row.losses[name];
  }
  row.lr = lr;
  row.elapsed_seconds = elapsed_seconds;
  log.append(row);
  progress.log_sums.clear();
  progress.log_count = 0;
}

/// Writes a checkpoint of module, optimizer and progress at `iteration`, refusing weights that are not finite:
/// a step with finite loss and gradients can still overflow them, and such a state must not become the "last
/// good" checkpoint. Returns the file written.
fs::path save_checked_checkpoint(CheckpointDir& checkpoints, torch::nn::Module& module, GroupedOptimizer& optimizer,
                                 const TrainProgress& progress, const fs::path& last_checkpoint) {
  std::vector<torch::Tensor> finite;
  for (const torch::Tensor& p : module.parameters()) finite.push_back(torch::isfinite(p).all());
  if (!finite.empty() && !torch::stack(finite).all().item<bool>())
    throw NonFiniteLossError(progress.iteration, "non-finite parameter values after iteration " +
                                                     std::to_string(progress.iteration) + "; training stopped. " +
                                                     last_good(last_checkpoint));
  return checkpoints.save(module, &optimizer, progress);
}

}  // namespace

EngineContext make_engine_context(const TrainContext& ctx) {
  EngineContext e;
  e.out_dir = ctx.out_dir;
  e.device = ctx.device;
  e.threads = ctx.threads;
  e.seed = ctx.seed;
  e.resume = ctx.resume;
  e.quiet = !ProgressBar::enabled();
  return e;
}

TrainResult train(Trainable& model, const Dataset& train_set, const TrainOptions& opts, const EngineContext& ctx) {
  DETLAB_REQUIRE((opts.epochs > 0) != (opts.iterations > 0), "exactly one of epochs / iterations", opts.epochs,
                 opts.iterations);
  DETLAB_REQUIRE(opts.checkpoint_every > 0 && opts.log_every > 0, opts.checkpoint_every, opts.log_every);
  DETLAB_REQUIRE(!ctx.out_dir.empty(), "EngineContext::out_dir is empty");
  const auto call_start = Clock::now();
  const torch::Device device = parse_device(ctx.device);
  // The command applied its --threads already; a trainer asked for another count gets it for this call only.
  std::optional<ScopedLibraryThreads> threads;
  if (ctx.threads > 0 && !library_threads().matches(ctx.threads)) threads.emplace(ctx.threads);
  const ScopedNetworkThreads network_threads;
  torch::AutoGradMode grad_mode(true);

  torch::nn::Module& module = model.module();
  module.to(device);
  module.train();

  LoaderOptions loader_opts = opts.loader;
  loader_opts.transform = model.input_transform();
  DataLoader loader(train_set, loader_opts, ctx.seed);
  const int64_t per_epoch = loader.batches_per_epoch();
  const int64_t total = opts.iterations > 0 ? opts.iterations : opts.epochs * per_epoch;
  const LrSchedule schedule(opts.schedule, total, per_epoch);
  GroupedOptimizer optimizer(module, opts.optimizer, [&](const std::string& n) { return model.lr_multiplier(n); });
  CheckpointDir checkpoints(ctx.out_dir / "checkpoints", opts.keep_checkpoints);

  TrainProgress fresh;
  fresh.seed = ctx.seed;
  fresh.batch_size = opts.loader.batch_size;
  fresh.dataset_size = static_cast<int64_t>(train_set.images.size());
  fresh.total_iterations = total;
  TrainResult result;
  TrainProgress progress = resume_or_start(checkpoints, module, optimizer, device, fresh, ctx, result);
  result.start_iteration = progress.iteration;
  result.iterations = total;

  TrainLog log(ctx.out_dir / "train_log.csv", progress.iteration);
  std::optional<ProgressBar> bar;
  if (!ctx.quiet) bar.emplace("train", total - progress.iteration, "it");
  const double elapsed_before = progress.elapsed_seconds;
  const auto loop_start = Clock::now();
  const auto elapsed = [&] { return elapsed_before + seconds_since(loop_start); };
  const auto checkpoint_at = [&](int64_t iteration) {
    progress.iteration = iteration;
    progress.epoch = iteration / per_epoch;
    progress.elapsed_seconds = elapsed();
    result.last_checkpoint = save_checked_checkpoint(checkpoints, module, optimizer, progress, result.last_checkpoint);
  };
  int64_t images = 0;

  const std::unique_ptr<DataLoader::Stream> stream = loader.stream(progress.iteration);
  for (int64_t it = progress.iteration; it < total; ++it) {
    Batch batch = stream->next();
    if (device != torch::Device(torch::kCPU)) batch = batch.to(device, /*non_blocking=*/true);
    const double lr = opts.optimizer.lr * schedule.factor(it);
    optimizer.set_lr(lr);
    const StepLosses step = train_step(model, optimizer, batch, opts.clip_grad_norm, it, result.last_checkpoint);
    images += batch.size();
    result.last_losses = step.values;

    for (const auto& [name, x] : step.values) progress.log_sums[name] += x;
    ++progress.log_count;
    const int64_t done = it + 1;
    if (done % opts.log_every == 0 || done == total) append_log_row(log, progress, done, it / per_epoch, lr, elapsed());
    if (bar) {
      bar->set_postfix("loss " + format_value(step.total) + " lr " + format_value(lr));
      bar->tick();
    }
    // The epoch hook runs before the checkpoint of the same iteration, so that whatever it changes (e.g.
    // random state) is in that checkpoint and a resumed run does not need to repeat it.
    if (done % per_epoch == 0 && ctx.on_epoch_end) {
      ctx.on_epoch_end(done / per_epoch, done);
      module.train();
    }
    if (done % opts.checkpoint_every == 0 && done < total) checkpoint_at(done);
  }
  if (bar) bar->finish();
  if (result.start_iteration < total || result.last_checkpoint.empty()) checkpoint_at(total);
  result.final_weights = ctx.out_dir / "model_final.pt";
  save_weights(module, result.final_weights.string());  // a state dict file (nn/weights), atomic
  result.seconds = seconds_since(call_start);
  const double loop_seconds = seconds_since(loop_start);
  result.images_per_second = loop_seconds > 0 ? static_cast<double>(images) / loop_seconds : 0.0;
  return result;
}

}  // namespace detlab

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
#include "train/runtime.h"
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

  TrainProgress progress;
  progress.seed = ctx.seed;
  progress.batch_size = opts.loader.batch_size;
  progress.dataset_size = static_cast<int64_t>(train_set.images.size());
  progress.total_iterations = total;
  TrainResult result;
  if (const std::optional<fs::path> latest = checkpoints.latest()) {
    if (!ctx.resume)
      throw InputError(latest->string(), "",
                       "the output folder already holds a checkpoint: pass --resume to continue that run, or choose "
                       "another output folder");
    TrainProgress saved = load_checkpoint(*latest, module, &optimizer, device);
    check_same_run(*latest, saved, progress);
    saved.total_iterations = total;
    progress = saved;
    result.last_checkpoint = *latest;
    if (!ctx.quiet) std::cerr << "resuming from " << latest->string() << " (iteration " << progress.iteration << ")\n";
  } else {
    if (ctx.resume && !ctx.quiet)
      std::cerr << "no checkpoint in " << checkpoints.dir().string() << "; starting a new run\n";
    seed_everything(ctx.seed);
  }
  result.start_iteration = progress.iteration;
  result.iterations = total;

  TrainLog log(ctx.out_dir / "train_log.csv", progress.iteration);
  std::optional<ProgressBar> bar;
  if (!ctx.quiet) bar.emplace("train", total - progress.iteration, "it");
  const double elapsed_before = progress.elapsed_seconds;
  const auto loop_start = Clock::now();
  int64_t images = 0;

  auto last_good = [&] {
    return result.last_checkpoint.empty() ? std::string("No checkpoint was written before it.")
                                          : "The last good checkpoint is " + result.last_checkpoint.string() + ".";
  };
  auto save_checkpoint_at = [&](int64_t iteration) {
    // A step with finite loss and gradients can still overflow the weights; such a state must not become
    // the "last good" checkpoint.
    std::vector<torch::Tensor> finite;
    for (const torch::Tensor& p : module.parameters()) finite.push_back(torch::isfinite(p).all());
    if (!finite.empty() && !torch::stack(finite).all().item<bool>())
      throw NonFiniteLossError(iteration, "non-finite parameter values after iteration " + std::to_string(iteration) +
                                              "; training stopped. " + last_good());
    progress.iteration = iteration;
    progress.epoch = iteration / per_epoch;
    progress.elapsed_seconds = elapsed_before + seconds_since(loop_start);
    result.last_checkpoint = checkpoints.save(module, &optimizer, progress);
  };

  const std::unique_ptr<DataLoader::Stream> stream = loader.stream(progress.iteration);
  for (int64_t it = progress.iteration; it < total; ++it) {
    Batch batch = stream->next();
    if (device != torch::Device(torch::kCPU)) batch = batch.to(device, /*non_blocking=*/true);
    const double lr = opts.optimizer.lr * schedule.factor(it);
    optimizer.set_lr(lr);

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

    std::map<std::string, double> values;
    size_t k = 0;
    for (const auto& kv : losses) values[kv.first] = v[k++];
    const double total_value = v[k];
    if (!std::isfinite(total_value)) {
      std::ostringstream msg;
      msg << "non-finite loss at iteration " << it + 1 << ":";
      for (const auto& [name, x] : values) msg << " " << name << " = " << x;
      msg << "; training stopped. " << last_good();
      throw NonFiniteLossError(it + 1, msg.str());
    }

    optimizer.zero_grad();
    total_loss.backward();
    if (opts.clip_grad_norm > 0) {
      const double norm = torch::nn::utils::clip_grad_norm_(optimizer.parameters(), opts.clip_grad_norm);
      if (!std::isfinite(norm))
        throw NonFiniteLossError(it + 1, "non-finite gradient norm at iteration " + std::to_string(it + 1) +
                                             " (loss " + format_value(total_value) + "); training stopped. " +
                                             last_good());
    }
    optimizer.step();
    images += batch.size();
    result.last_losses = values;

    for (const auto& [name, x] : values) progress.log_sums[name] += x;
    ++progress.log_count;
    const int64_t done = it + 1;
    if (done % opts.log_every == 0 || done == total) {
      TrainLogRow row;
      row.iteration = done;
      row.epoch = it / per_epoch;
      for (const auto& [name, sum] : progress.log_sums) {
        row.losses[name] = sum / static_cast<double>(progress.log_count);
        row.total += row.losses[name];
      }
      row.lr = lr;
      row.elapsed_seconds = elapsed_before + seconds_since(loop_start);
      log.append(row);
      progress.log_sums.clear();
      progress.log_count = 0;
    }
    if (bar) {
      bar->set_postfix("loss " + format_value(total_value) + " lr " + format_value(lr));
      bar->tick();
    }
    // The epoch hook runs before the checkpoint of the same iteration, so that whatever it changes (e.g.
    // random state) is in that checkpoint and a resumed run does not need to repeat it.
    if (done % per_epoch == 0 && ctx.on_epoch_end) {
      ctx.on_epoch_end(done / per_epoch, done);
      module.train();
    }
    if (done % opts.checkpoint_every == 0 && done < total) save_checkpoint_at(done);
  }
  if (bar) bar->finish();
  if (result.start_iteration < total || result.last_checkpoint.empty()) save_checkpoint_at(total);
  result.final_weights = ctx.out_dir / "model_final.pt";
  save_weights(module, result.final_weights.string());  // a state dict file (nn/weights), atomic
  result.seconds = seconds_since(call_start);
  const double loop_seconds = seconds_since(loop_start);
  result.images_per_second = loop_seconds > 0 ? static_cast<double>(images) / loop_seconds : 0.0;
  return result;
}

}  // namespace detlab

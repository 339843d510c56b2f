// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Training data loader: deterministic order and augmentation, multi-threaded decode, in-order prefetch.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <map>
#include <vector>

#include "tensor/batch.h"
#include "tensor/transform.h"

namespace detlab {

class Config;
struct Dataset;

struct LoaderOptions {
  TransformOptions transform;  // the engine replaces it with Trainable::input_transform()
  int batch_size = 2;
  bool shuffle = true;
  bool drop_last = false;      // false: the last batch of an epoch may be smaller
  int workers = 2;             // decoding threads; 0 decodes in the calling thread
  int prefetch = 2;            // batches kept ready per worker (bounds memory)
  float hflip_prob = 0.5f;     // horizontal flip (torchvision detection references)
  float jitter_min = 1.f;      // scale jitter: the resize target sizes are multiplied by a factor drawn
  float jitter_max = 1.f;      //   uniformly from [jitter_min, jitter_max] per image (1, 1: off)
  bool skip_crowd = true;      // drop COCO crowd regions from the targets (torchvision / detectron2 training)
  bool skip_difficult = false; // drop VOC difficult objects (detectron2 keeps them for training)
};

/// Keys: workers, shuffle, drop_last, prefetch, hflip_prob, scale_jitter ([min, max]), skip_crowd,
/// skip_difficult. batch_size is read by parse_train_options from the train node. InputError on bad values.
LoaderOptions parse_loader(const Config& node);

/// Turns a Dataset into a deterministic stream of augmented, padded batches.
///
/// Determinism: the image order of epoch e and every augmentation decision (flip, jitter) of the image at
/// position p of epoch e are pure functions of (seed, e, p) -- never of thread scheduling or of how many
/// batches were produced before -- so batch(e, i) is the same whether computed first, last, by 1 worker or
/// by 8, and a resumed run sees exactly the batches the interrupted one would have seen.
/// thread safety: batch() may run concurrently; the dataset must outlive the loader and its streams.
class DataLoader {
 public:
  /// requires: dataset has at least batch_size images when drop_last; batch_size >= 1.
  DataLoader(const Dataset& dataset, LoaderOptions opts, uint64_t seed);

  int64_t batches_per_epoch() const;
  const LoaderOptions& options() const { return opts_; }
  const Dataset& dataset() const { return dataset_; }
  /// Dataset indices in the order of epoch `epoch` (the identity when shuffle is off).
  std::vector<int> epoch_order(int64_t epoch) const;
  /// Batch `index` of epoch `epoch`, computed synchronously in the calling thread.
  /// Throws InputError when an image cannot be decoded.
  Batch batch(int64_t epoch, int64_t index) const;

  /// Batches in order from global batch number `first` (= epoch * batches_per_epoch() + index), across
  /// epochs without end, decoded ahead by `workers` threads into a bounded queue.
  class Stream {
   public:
    virtual ~Stream() = default;
    /// The next batch; rethrows the exception its decoding raised, if any.
    virtual Batch next() = 0;
  };
  std::unique_ptr<Stream> stream(int64_t first) const;

 private:
  std::shared_ptr<const std::vector<int>> cached_order(int64_t epoch) const;

  const Dataset& dataset_;
  LoaderOptions opts_;
  uint64_t seed_;
  mutable std::mutex order_mutex_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int>>> orders_;  // a few recent epochs
};

/// Counter-based random numbers: a 64-bit hash (SplitMix64 finalizer) of (seed, stream, a, b), so that a
/// value depends only on its coordinates, not on a generator's history.
uint64_t hash_random(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0);
/// Uniform double in [0, 1) from hash_random's 53 high bits.
double uniform_random(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b = 0);

}  // namespace detlab

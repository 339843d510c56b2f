// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DataLoader: deterministic order / augmentation per (seed, epoch, position) and a threaded in-order stream.
#include "train/loader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <thread>

#include "config/config.h"
#include "core/error.h"
#include "data/dataset.h"

namespace detlab {

namespace {

// Independent random streams of hash_random, one per kind of decision.
constexpr uint64_t kOrderStream = 1;
constexpr uint64_t kFlipStream = 2;
constexpr uint64_t kJitterStream = 3;
constexpr size_t kCachedEpochs = 3;  // orders kept: the current epoch plus prefetch across one boundary

uint64_t splitmix64(uint64_t x) {
  // SplitMix64 (Steele, Lea & Flood 2014): a bijective 64-bit mixer with good avalanche.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t hash_random(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ stream);
  h = splitmix64(h ^ a);
  return splitmix64(h ^ b);
}

double uniform_random(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
  return static_cast<double>(hash_random(seed, stream, a, b) >> 11) * 0x1.0p-53;  // 53 bits: a double's mantissa
}

LoaderOptions parse_loader(const Config& node) {
  LoaderOptions o;
  o.workers = node.get<int>("workers", o.workers);
  o.shuffle = node.get<bool>("shuffle", o.shuffle);
  o.drop_last = node.get<bool>("drop_last", o.drop_last);
  o.prefetch = node.get<int>("prefetch", o.prefetch);
  o.hflip_prob = node.get<float>("hflip_prob", o.hflip_prob);
  if (node.has("scale_jitter")) {
    const std::vector<float> j = node.get<std::vector<float>>("scale_jitter");
    if (j.size() != 2 || !(j[0] > 0.f) || !(j[1] >= j[0]))
      throw InputError(node.file(), node.child_path("scale_jitter"), "expected [min, max] with 0 < min <= max");
    o.jitter_min = j[0];
    o.jitter_max = j[1];
  }
  o.skip_crowd = node.get<bool>("skip_crowd", o.skip_crowd);
  o.skip_difficult = node.get<bool>("skip_difficult", o.skip_difficult);
  if (o.workers < 0) throw InputError(node.file(), node.child_path("workers"), "must be >= 0");
  if (o.prefetch < 1) throw InputError(node.file(), node.child_path("prefetch"), "must be >= 1");
  if (!(o.hflip_prob >= 0.f && o.hflip_prob <= 1.f))
    throw InputError(node.file(), node.child_path("hflip_prob"), "must be in [0, 1]");
  return o;
}

DataLoader::DataLoader(const Dataset& dataset, LoaderOptions opts, uint64_t seed)
    : dataset_(dataset), opts_(std::move(opts)), seed_(seed) {
  DETLAB_REQUIRE(opts_.batch_size >= 1, opts_.batch_size);
  DETLAB_REQUIRE(opts_.workers >= 0 && opts_.prefetch >= 1, opts_.workers, opts_.prefetch);
  DETLAB_REQUIRE(opts_.jitter_min > 0.f && opts_.jitter_max >= opts_.jitter_min, opts_.jitter_min, opts_.jitter_max);
  const size_t need = opts_.drop_last ? static_cast<size_t>(opts_.batch_size) : 1;
  if (dataset_.images.size() < need)
    throw InputError(dataset_.root.string(), "images",
                     "the training set '" + dataset_.name + "' has " + std::to_string(dataset_.images.size()) +
                         " images, fewer than one batch (" + std::to_string(need) + ")");
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = static_cast<int64_t>(dataset_.images.size()), bs = opts_.batch_size;
  return opts_.drop_last ? n / bs : (n + bs - 1) / bs;
}

std::vector<int> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int> order(dataset_.images.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  if (!opts_.shuffle) return order;
  // Fisher-Yates with counter-based draws (std::shuffle's draws are implementation-defined).
  for (size_t i = order.size(); i-- > 1;) {
    const size_t j = hash_random(seed_, kOrderStream, static_cast<uint64_t>(epoch), i) % (i + 1);
    std::swap(order[i], order[j]);
  }
  return order;
}

std::shared_ptr<const std::vector<int>> DataLoader::cached_order(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto it = orders_.find(epoch);
  if (it != orders_.end()) return it->second;
  auto order = std::make_shared<const std::vector<int>>(epoch_order(epoch));
  orders_[epoch] = order;
  while (orders_.size() > kCachedEpochs) orders_.erase(orders_.begin());
  return order;
}

Batch DataLoader::batch(int64_t epoch, int64_t index) const {
  DETLAB_REQUIRE(epoch >= 0 && index >= 0 && index < batches_per_epoch(), epoch, index, batches_per_epoch());
  const auto order = cached_order(epoch);
  const int64_t first = index * opts_.batch_size;
  const int64_t last = std::min<int64_t>(first + opts_.batch_size, static_cast<int64_t>(order->size()));
  const TransformOptions& tf = opts_.transform;

  Batch b;
  b.epoch = epoch;
  b.index = index;
  std::vector<cv::Mat> pixels;
  std::vector<ResizePlan> plans;
  int64_t max_h = 0, max_w = 0;
  for (int64_t pos = first; pos < last; ++pos) {
    const int idx = (*order)[pos];
    cv::Mat img = dataset_.load_image(idx);
    const ImageRecord& rec = dataset_.images[idx];
    if (img.type() != CV_8UC3 || img.empty())
      throw InputError(rec.file.empty() ? rec.name : rec.file, "image", "expected 8-bit 3-channel pixels");
    const double u_jitter = uniform_random(seed_, kJitterStream, static_cast<uint64_t>(epoch), pos);
    const double jitter = opts_.jitter_min + (opts_.jitter_max - opts_.jitter_min) * u_jitter;
    const bool flip = uniform_random(seed_, kFlipStream, static_cast<uint64_t>(epoch), pos) < opts_.hflip_prob;
    const ResizePlan plan = plan_resize(img.cols, img.rows, tf, jitter);

    ImageMeta m;
    m.index = idx;
    m.image_id = rec.id;
    m.orig_width = img.cols;
    m.orig_height = img.rows;
    m.scale_x = plan.scale_x;
    m.scale_y = plan.scale_y;
    m.flipped = flip;
    m.width = plan.width;
    m.height = plan.height;

    std::vector<float> coords;
    std::vector<int64_t> labels;
    for (const Object& o : rec.objects) {
      if ((o.crowd && opts_.skip_crowd) || (o.difficult && opts_.skip_difficult)) continue;
      coords.insert(coords.end(), {o.box.x1, o.box.y1, o.box.x2, o.box.y2});
      labels.push_back(o.label);
    }
    const int64_t k = static_cast<int64_t>(labels.size());
    torch::Tensor boxes = torch::empty({k, 4}, torch::kFloat32), label_tensor = torch::empty({k}, torch::kInt64);
    std::copy(coords.begin(), coords.end(), boxes.data_ptr<float>());
    std::copy(labels.begin(), labels.end(), label_tensor.data_ptr<int64_t>());
    b.targets.push_back({to_network(boxes, m), label_tensor});
    b.meta.push_back(m);
    pixels.push_back(std::move(img));
    plans.push_back(plan);
    max_h = std::max<int64_t>(max_h, plan.height);
    max_w = std::max<int64_t>(max_w, plan.width);
  }
  const int64_t H = padded_size(max_h, tf.size_divisibility), W = padded_size(max_w, tf.size_divisibility);
  const int64_t n = last - first;
  b.images = torch::zeros({n, 3, H, W}, torch::kFloat32);
  float* base = b.images.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    preprocess_into(pixels[i], plans[i], b.meta[i].flipped, tf, base + i * 3 * H * W, H, W);
  return b;
}

namespace {

/// workers == 0: each batch is computed when asked for.
class InlineStream : public DataLoader::Stream {
 public:
  InlineStream(const DataLoader& loader, int64_t first) : loader_(loader), next_(first) {}
  Batch next() override {
    const int64_t bpe = loader_.batches_per_epoch();
    const int64_t g = next_++;
    return loader_.batch(g / bpe, g % bpe);
  }

 private:
  const DataLoader& loader_;
  int64_t next_;
};

/// Workers claim global batch numbers in increasing order, at most `capacity` ahead of the consumer, and
/// file the results by number; next() hands them out in order. Which worker built a batch does not matter
/// because DataLoader::batch is a pure function of its arguments.
class PrefetchStream : public DataLoader::Stream {
 public:
  PrefetchStream(const DataLoader& loader, int64_t first)
      : loader_(loader),
        bpe_(loader.batches_per_epoch()),
        capacity_(static_cast<int64_t>(loader.options().workers) * loader.options().prefetch),
        next_claim_(first),
        next_out_(first) {
    for (int i = 0; i < loader.options().workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~PrefetchStream() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  Batch next() override {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_out_) > 0; });
    auto node = ready_.extract(next_out_);
    ++next_out_;
    lock.unlock();
    work_cv_.notify_all();
    if (node.mapped().error) std::rethrow_exception(node.mapped().error);
    return std::move(node.mapped().batch);
  }

 private:
  struct Result {
    Batch batch;
    std::exception_ptr error;
  };

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ < next_out_ + capacity_; });
      if (stop_) return;
      const int64_t g = next_claim_++;
      lock.unlock();
      Result r;
      try {
        r.batch = loader_.batch(g / bpe_, g % bpe_);
      } catch (...) {
        r.error = std::current_exception();
      }
      lock.lock();
      ready_.emplace(g, std::move(r));
      ready_cv_.notify_all();
    }
  }

  const DataLoader& loader_;
  const int64_t bpe_, capacity_;
  int64_t next_claim_, next_out_;
  bool stop_ = false;
  std::map<int64_t, Result> ready_;
  std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<DataLoader::Stream> DataLoader::stream(int64_t first) const {
  DETLAB_REQUIRE(first >= 0, first);
  if (opts_.workers == 0) return std::make_unique<InlineStream>(*this, first);
  return std::make_unique<PrefetchStream>(*this, first);
}

}  // namespace detlab

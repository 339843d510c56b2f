// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the training loader: determinism across worker counts, augmentation geometry, batching, errors.
#include "catch_torch.h"

#include <set>

#include "config/config.h"
#include "core/error.h"
#include "train/loader.h"
#include "train_fixtures.h"

using namespace detlab;
using detlab::test::box_dataset;

namespace {

LoaderOptions small_options() {
  LoaderOptions o;
  o.batch_size = 3;
  o.transform.min_size = 40;
  o.transform.max_size = 80;
  o.transform.size_divisibility = 16;
  o.jitter_min = 0.75f;
  o.jitter_max = 1.25f;
  return o;
}

void require_same(const Batch& a, const Batch& b) {
  REQUIRE(a.epoch == b.epoch);
  REQUIRE(a.index == b.index);
  REQUIRE(torch::equal(a.images, b.images));
  REQUIRE(a.size() == b.size());
  for (int64_t i = 0; i < a.size(); ++i) {
    REQUIRE(a.meta[i].index == b.meta[i].index);
    REQUIRE(a.meta[i].flipped == b.meta[i].flipped);
    REQUIRE(a.meta[i].scale_x == b.meta[i].scale_x);
    REQUIRE(torch::equal(a.targets[i].boxes, b.targets[i].boxes));
    REQUIRE(torch::equal(a.targets[i].labels, b.targets[i].labels));
  }
}

}  // namespace

TEST_CASE("the batch stream is the same for 0, 1 and 3 workers and for any start", "[train][loader]") {
  const Dataset ds = box_dataset(11, 48, 36, 3, 2, /*vary_size=*/true);
  LoaderOptions o = small_options();
  o.workers = 0;
  const DataLoader inline_loader(ds, o, 42);
  REQUIRE(inline_loader.batches_per_epoch() == 4);  // 11 images, batches of 3, last one of 2
  std::vector<Batch> want;
  auto s0 = inline_loader.stream(0);
  for (int i = 0; i < 10; ++i) want.push_back(s0->next());  // crosses two epoch boundaries
  CHECK(want[3].size() == 2);
  CHECK(want[4].epoch == 1);
  CHECK(want[4].index == 0);

  for (int workers : {1, 3}) {
    INFO("workers " << workers);
    o.workers = workers;
    o.prefetch = 2;
    const DataLoader loader(ds, o, 42);
    auto s = loader.stream(0);
    for (const Batch& b : want) require_same(s->next(), b);
    auto late = loader.stream(6);  // a resumed run starting at global batch 6
    for (int i = 6; i < 10; ++i) require_same(late->next(), want[i]);
  }
  // Synchronous batch() in reverse order gives the same.
  for (int i = 9; i >= 0; --i) require_same(inline_loader.batch(i / 4, i % 4), want[i]);
}

TEST_CASE("epoch orders are seeded permutations", "[train][loader]") {
  const Dataset ds = box_dataset(20, 32, 32);
  LoaderOptions o = small_options();
  const DataLoader a(ds, o, 1), b(ds, o, 2);
  const std::vector<int> a0 = a.epoch_order(0), a1 = a.epoch_order(1), b0 = b.epoch_order(0);
  CHECK(std::set<int>(a0.begin(), a0.end()).size() == 20);
  CHECK(a0 != a1);
  CHECK(a0 != b0);
  CHECK(a0 == DataLoader(ds, o, 1).epoch_order(0));
  o.shuffle = false;
  const std::vector<int> plain = DataLoader(ds, o, 1).epoch_order(5);
  for (int i = 0; i < 20; ++i) CHECK(plain[i] == i);
}

TEST_CASE("flip mirrors pixels and boxes exactly, resize scales boxes per axis", "[train][loader]") {
  const Dataset ds = box_dataset(4, 50, 30);
  LoaderOptions o = small_options();
  o.batch_size = 1;
  o.shuffle = false;
  o.jitter_min = o.jitter_max = 1.f;
  o.hflip_prob = 0.f;
  const Batch plain = DataLoader(ds, o, 9).batch(0, 0);
  o.hflip_prob = 1.f;
  const Batch flipped = DataLoader(ds, o, 9).batch(0, 0);
  const ImageMeta& m = plain.meta[0];
  REQUIRE_FALSE(m.flipped);
  REQUIRE(flipped.meta[0].flipped);
  // 50x30, min 40 / max 80: scale = min(40 / 30, 80 / 50) = 1.333 -> 66 x 40 (floor(66.67)).
  CHECK(m.width == 66);
  CHECK(m.height == 40);
  CHECK(plain.images.sizes() == torch::IntArrayRef{1, 3, 48, 80});
  const torch::Tensor region = plain.images[0].slice(1, 0, m.height).slice(2, 0, m.width);
  CHECK(torch::equal(flipped.images[0].slice(1, 0, m.height).slice(2, 0, m.width), region.flip({2})));

  const Object& obj = ds.images[0].objects[0];
  const torch::Tensor b = plain.targets[0].boxes, fb = flipped.targets[0].boxes;
  CHECK(b[0][0].item<float>() == obj.box.x1 * m.scale_x);
  CHECK(b[0][1].item<float>() == obj.box.y1 * m.scale_y);
  CHECK(b[0][2].item<float>() == obj.box.x2 * m.scale_x);
  CHECK(b[0][3].item<float>() == obj.box.y2 * m.scale_y);
  CHECK(fb[0][0].item<float>() == 66.f - b[0][2].item<float>());
  CHECK(fb[0][2].item<float>() == 66.f - b[0][0].item<float>());
  CHECK(torch::equal(fb.select(1, 1), b.select(1, 1)));
  CHECK(torch::equal(plain.targets[0].labels, torch::tensor({int64_t{0}, int64_t{1}})));  // image 0 has 2 objects
  // Mapping the targets back gives the dataset's boxes.
  CHECK(torch::allclose(to_original(fb, flipped.meta[0])[0],
                        torch::tensor({obj.box.x1, obj.box.y1, obj.box.x2, obj.box.y2}), 0, 1e-4));
}

TEST_CASE("scale jitter stays in its range and varies, flips are about half", "[train][loader]") {
  const Dataset ds = box_dataset(60, 40, 40);
  LoaderOptions o = small_options();  // min 40 on a 40x40 image: scale == jitter factor
  o.transform.max_size = 1000;
  o.batch_size = 4;
  const DataLoader loader(ds, o, 5);
  float lo = 10, hi = 0;
  int flips = 0, n = 0;
  for (int64_t i = 0; i < loader.batches_per_epoch(); ++i)
    for (const ImageMeta& m : loader.batch(0, i).meta) {
      lo = std::min(lo, m.scale_x);
      hi = std::max(hi, m.scale_x);
      flips += m.flipped;
      ++n;
      CHECK(m.scale_x >= 0.75f - 1.f / 40);  // floor() may take up to one pixel off
      CHECK(m.scale_x <= 1.25f);
    }
  CHECK(n == 60);
  CHECK(lo < 0.85f);
  CHECK(hi > 1.15f);
  CHECK(flips > 15);
  CHECK(flips < 45);
}

TEST_CASE("drop_last, crowd / difficult filtering, and images without boxes", "[train][loader]") {
  Dataset ds = box_dataset(7, 32, 32);
  ds.images[0].objects[0].crowd = true;
  ds.images[0].objects[1].difficult = true;
  LoaderOptions o = small_options();
  o.shuffle = false;
  o.drop_last = true;
  const DataLoader loader(ds, o, 1);
  CHECK(loader.batches_per_epoch() == 2);
  const Batch b = loader.batch(0, 0);
  CHECK(b.targets[0].boxes.size(0) == 1);  // crowd dropped, difficult kept (defaults)
  o.skip_difficult = true;
  CHECK(DataLoader(ds, o, 1).batch(0, 0).targets[0].boxes.size(0) == 0);
  CHECK(DataLoader(ds, o, 1).batch(0, 0).targets[0].boxes.sizes() == torch::IntArrayRef{0, 4});
  o.drop_last = false;
  CHECK(DataLoader(ds, o, 1).batches_per_epoch() == 3);
  o.batch_size = 8;
  o.drop_last = true;
  CHECK_THROWS_AS(DataLoader(ds, o, 1), InputError);  // fewer images than one batch
}

TEST_CASE("a corrupt image surfaces as InputError from the stream", "[train][loader]") {
  Dataset ds = box_dataset(6, 32, 32);
  ds.memory_images.erase(ds.images[4].name);
  ds.root = std::filesystem::temp_directory_path() / "detlab_no_such_dir";
  LoaderOptions o = small_options();
  o.shuffle = false;
  o.batch_size = 2;
  o.workers = 2;
  const DataLoader loader(ds, o, 1);
  auto s = loader.stream(0);
  CHECK_NOTHROW(s->next());
  CHECK_NOTHROW(s->next());
  CHECK_THROWS_WITH(s->next(), Catch::Contains("img4.png") && Catch::Contains("not found"));
}

TEST_CASE("parse_loader reads its keys", "[train][loader]") {
  Config c = Config::parse("workers: 4\nshuffle: false\ndrop_last: true\nprefetch: 3\nhflip_prob: 0.25\n"
                           "scale_jitter: [0.8, 1.2]\nskip_crowd: false\nskip_difficult: true\n");
  const LoaderOptions o = parse_loader(c);
  c.expect_consumed();
  CHECK(o.workers == 4);
  CHECK_FALSE(o.shuffle);
  CHECK(o.drop_last);
  CHECK(o.prefetch == 3);
  CHECK(o.hflip_prob == 0.25f);
  CHECK(o.jitter_min == 0.8f);
  CHECK(o.jitter_max == 1.2f);
  CHECK_FALSE(o.skip_crowd);
  CHECK(o.skip_difficult);
  CHECK_THROWS_WITH(parse_loader(Config::parse("scale_jitter: [1.2, 0.8]")), Catch::Contains("scale_jitter"));
  CHECK_THROWS_WITH(parse_loader(Config::parse("hflip_prob: 2")), Catch::Contains("hflip_prob"));
}

TEST_CASE("hash_random is a pure function of its coordinates", "[train][loader]") {
  CHECK(hash_random(1, 2, 3, 4) == hash_random(1, 2, 3, 4));
  CHECK(hash_random(1, 2, 3, 4) != hash_random(1, 2, 3, 5));
  CHECK(hash_random(1, 2, 3, 4) != hash_random(2, 2, 3, 4));
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = uniform_random(7, 1, static_cast<uint64_t>(i));
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(sum / 10000 == Approx(0.5).margin(0.02));
}

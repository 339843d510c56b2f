// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of checkpoint / weight files: bitwise round trip, random state, versions, mismatches, latest + pruning.
#include "catch_torch.h"

#include <fstream>

#include <torch/serialize/output-archive.h>

#include "core/error.h"
#include "train/checkpoint.h"
#include "train/optim.h"
#include "train_fixtures.h"

using namespace detlab;
using namespace detlab::test;

namespace {

/// Two SGD steps on random data so that parameters, batch-norm buffers and momentum buffers are all non-trivial.
void train_a_little(TinyNet& net, GroupedOptimizer& opt) {
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    net->forward(torch::randn({2, 3, 16, 16})).pow(2).mean().backward();
    opt.step();
  }
}

}  // namespace

TEST_CASE("a checkpoint restores parameters, buffers, optimizer and random state bitwise", "[train][checkpoint]") {
  const auto dir = temp_dir("ckpt_roundtrip");
  torch::manual_seed(1);
  TinyNet a(3);
  GroupedOptimizer opt_a(*a, OptimizerOptions{});
  train_a_little(a, opt_a);
  TrainProgress prog;
  prog.iteration = 17;
  prog.epoch = 2;
  prog.elapsed_seconds = 1.0 / 3.0;
  prog.seed = 123456789012345ULL;
  prog.batch_size = 2;
  prog.dataset_size = 9;
  prog.total_iterations = 40;
  prog.log_sums = {{"loss_a", 0.1 + 0.2}, {"loss_b", 1e-300}};
  prog.log_count = 3;
  save_checkpoint(dir / "c.pt", *a, &opt_a, prog);
  const torch::Tensor next_random = torch::rand({5});  // what the generator gives after the checkpoint

  torch::manual_seed(99);  // a different initialization and generator state
  TinyNet b(3);
  GroupedOptimizer opt_b(*b, OptimizerOptions{});
  REQUIRE_FALSE(same_state(*a, *b));
  const TrainProgress got = load_checkpoint(dir / "c.pt", *b, &opt_b);
  CHECK(same_state(*a, *b));
  CHECK(torch::equal(torch::rand({5}), next_random));
  CHECK(got.iteration == 17);
  CHECK(got.epoch == 2);
  CHECK(got.elapsed_seconds == prog.elapsed_seconds);  // bitwise through JSON
  CHECK(got.seed == prog.seed);
  CHECK(got.batch_size == 2);
  CHECK(got.dataset_size == 9);
  CHECK(got.total_iterations == 40);
  CHECK(got.log_sums == prog.log_sums);
  CHECK(got.log_count == 3);
  // The next step is identical too, which needs the momentum buffers restored bitwise (the state map's key
  // type differs between LibTorch versions, so it is checked through its effect).
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({2, 3, 16, 16});
  for (auto* pair : {&a, &b}) {
    GroupedOptimizer& opt = pair == &a ? opt_a : opt_b;
    torch::manual_seed(6);  // same dropout mask
    opt.zero_grad();
    (*pair)->forward(x).pow(2).mean().backward();
    opt.step();
  }
  CHECK(same_state(*a, *b));
  std::filesystem::remove_all(dir);
}

TEST_CASE("load_checkpoint_model reads the model part only, all or nothing", "[train][checkpoint]") {
  const auto dir = temp_dir("ckpt_model");
  TinyNet a(2), b(2), c(3);
  GroupedOptimizer opt(*a, OptimizerOptions{});
  save_checkpoint(dir / "c.pt", *a, &opt, TrainProgress{});
  torch::manual_seed(3);
  const torch::Tensor next_random = torch::rand({3});
  torch::manual_seed(3);
  load_checkpoint_model(dir / "c.pt", *b);
  CHECK(same_state(*a, *b));
  CHECK(torch::equal(torch::rand({3}), next_random));  // the random state is left alone
  // A different head size: the shape mismatch names the tensor and both shapes; nothing is changed.
  const torch::Tensor conv1_before = c->conv1->weight.detach().clone();
  CHECK_THROWS_WITH(load_checkpoint_model(dir / "c.pt", *c),
                    Catch::Contains("c.pt") && Catch::Contains("model.head.weight") && Catch::Contains("[6, 16]"));
  CHECK(torch::equal(c->conv1->weight, conv1_before));
  std::filesystem::remove_all(dir);
}

TEST_CASE("unreadable files and unknown versions give InputError naming the file", "[train][checkpoint]") {
  const auto dir = temp_dir("ckpt_bad");
  TinyNet net(2);
  CHECK_THROWS_WITH(load_checkpoint(dir / "missing.pt", *net, nullptr), Catch::Contains("missing.pt") && Catch::Contains("not found"));
  std::ofstream(dir / "junk.pt") << "this is not an archive";
  CHECK_THROWS_AS(load_checkpoint(dir / "junk.pt", *net, nullptr), InputError);
  CHECK_THROWS_WITH(load_checkpoint_model(dir / "junk.pt", *net), Catch::Contains("junk.pt"));

  torch::serialize::OutputArchive future;
  future.write("format", c10::IValue(std::string("detlab-checkpoint")));
  future.write("version", c10::IValue(int64_t{kCheckpointVersion + 1}));
  future.save_to((dir / "future.pt").string());
  CHECK_THROWS_WITH(load_checkpoint(dir / "future.pt", *net, nullptr),
                    Catch::Contains("future.pt") && Catch::Contains("version") &&
                        Catch::Contains("unsupported format version " + std::to_string(kCheckpointVersion + 1)));
  torch::serialize::OutputArchive other;
  other.write("format", c10::IValue(std::string("something-else")));
  other.save_to((dir / "other.pt").string());
  CHECK_THROWS_WITH(load_checkpoint_model(dir / "other.pt", *net),
                    Catch::Contains("other.pt") && Catch::Contains("format") && Catch::Contains("not a detlab checkpoint"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("CheckpointDir points latest at the newest file and prunes old ones", "[train][checkpoint]") {
  const auto dir = temp_dir("ckpt_dir");
  CheckpointDir cd(dir / "checkpoints", 2);
  CHECK_FALSE(cd.latest().has_value());
  TinyNet net(2);
  TrainProgress p;
  for (int64_t it : {5, 10, 15}) {
    p.iteration = it;
    cd.save(*net, nullptr, p);
  }
  std::ofstream(dir / "checkpoints" / "ckpt_00000020.pt.tmp.1234") << "left by a killed run";
  p.iteration = 20;
  const auto last = cd.save(*net, nullptr, p);
  REQUIRE(cd.latest().has_value());
  CHECK(*cd.latest() == last);
  CHECK(last.filename() == "ckpt_00000020.pt");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "checkpoints")) files += e.path().extension() == ".pt";
  CHECK(files == 2);  // 15 and 20
  CHECK(std::filesystem::exists(dir / "checkpoints" / "ckpt_00000015.pt"));
  CHECK_FALSE(std::filesystem::exists(dir / "checkpoints" / "ckpt_00000020.pt.tmp.1234"));
  std::filesystem::remove(last);
  CHECK_THROWS_WITH(cd.latest(), Catch::Contains("latest") && Catch::Contains("missing checkpoint"));
  std::filesystem::remove_all(dir);
}

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Weight files: pickled dicts and TorchScript archives from Python, our own files read back by Python, errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/resnet.h"
#include "nn/weights/weight_file.h"
#include "tv_fixture.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

bool same_tensors(const StateDict& a, const StateDict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& kv : a) {
    auto it = b.find(kv.first);
    if (it == b.end() || !torch::equal(kv.second, it->second)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a TorchScript dict holder and a scripted model give the same state dict as the pickled dict",
          "[nn][weights]") {
  const auto dir = test::tv_fixture("resnet18");
  if (dir.empty()) return;
  CHECK(detect_weight_format((dir / "state_dict.pt").string()) == WeightFileFormat::kPickledDict);
  CHECK(detect_weight_format((dir / "state_dict_ts.pt").string()) == WeightFileFormat::kTorchScript);
  CHECK(detect_weight_format((dir / "module_ts.pt").string()) == WeightFileFormat::kTorchScript);
  const auto pickled = read_state_dict((dir / "state_dict.pt").string());
  CHECK(pickled.size() == 122);  // torchvision resnet18: 62 parameters + 60 BatchNorm2d buffers
  CHECK(same_tensors(read_state_dict((dir / "state_dict_ts.pt").string()), pickled));
  CHECK(same_tensors(read_state_dict((dir / "module_ts.pt").string()), pickled));

  ResNet model(resnet_options(18));
  const auto report = load_weights(model, (dir / "module_ts.pt").string());
  CHECK(report.ok());
  CHECK(report.loaded.size() == 122);
}

TEST_CASE("our saved weights load in Python with torch.load and back in C++", "[nn][weights]") {
  const auto tmp = test::temp_dir("weights_roundtrip");
  BackboneOptions o;
  o.num_classes = 5;
  auto model = make_backbone("small_resnet", o);
  const std::string path = (tmp / "small_resnet.pt").string();
  save_weights(*model, path);
  REQUIRE(fs::exists(path));
  for (const auto& entry : fs::directory_iterator(tmp)) CHECK(entry.path().filename() == "small_resnet.pt");

  // C++ round trip.
  auto again = make_backbone("small_resnet", o);
  CHECK_FALSE(same_tensors(module_state_dict(*again), module_state_dict(*model)));
  CHECK(load_weights(*again, path).ok());
  CHECK(same_tensors(module_state_dict(*again), module_state_dict(*model)));

  // Python: torch.load gives a dict that torchvision's twin accepts with strict=True, and the same numbers.
  const double sum = module_state_dict(*model).at("layer3.1.conv2.weight").sum().item<double>();
  const std::string py =
      "import sys; sys.path.insert(0, '" DETLAB_REPO_ROOT "/tests/nn')\n"
      "from tv_export import small_resnet\n"
      "sd = torch.load('" + path + "')\n"
      "assert isinstance(sd, dict), type(sd)\n"
      "m = small_resnet(5); m.load_state_dict(sd, strict=True)\n"
      "s = float(m.layer3[1].conv2.weight.sum())\n"
      "assert abs(s - (" + std::to_string(sum) + ")) < 1e-3 * max(1.0, abs(s)), s\n";
  if (!testing::tool_available(test::python_has_torch(), "python3-torch", "DETLAB_SKIP_TV_PARITY")) return;
  CHECK(test::run_python(py) == 0);
}

TEST_CASE("make_backbone loads torchvision classification weights into a headless body", "[nn][weights]") {
  const auto dir = test::tv_fixture("resnet18");
  if (dir.empty()) return;
  BackboneOptions o;
  o.weights = (dir / "state_dict.pt").string();  // has fc.weight / fc.bias: ignored without a head
  o.norm = NormKind::kFrozenBatchNorm;
  auto bb = make_backbone("resnet18", o);
  const auto state = test::load_tensors(dir / "state_dict.pt");
  CHECK(torch::equal(module_state_dict(*bb).at("layer4.1.bn2.running_var"), state.at("layer4.1.bn2.running_var")));
  BackboneOptions wrong = o;
  CHECK_THROWS_AS(make_backbone("resnet34", wrong), WeightLoadError);  // ResNet-34 is missing layer*.2+ blocks
}

TEST_CASE("unreadable weight files give one-line WeightFileErrors naming the file and the fix", "[nn][weights]") {
  const auto tmp = test::temp_dir("weights_errors");
  const std::string missing = (tmp / "nope.pt").string();
  CHECK_THROWS_WITH(read_state_dict(missing), missing + ": no such file");

  const std::string text = (tmp / "text.pt").string();
  std::ofstream(text) << "not a tensor file";
  CHECK_THROWS_WITH(read_state_dict(text), Catch::Contains("not a zip archive"));

  const std::string ordered = (tmp / "ordered.pt").string();
  const std::string legacy = (tmp / "legacy.pt").string();
  const std::string nested = (tmp / "nested.pt").string();
  const std::string single = (tmp / "single.pt").string();
  if (!testing::tool_available(test::python_has_torch(), "python3-torch", "DETLAB_SKIP_TV_PARITY")) return;
  REQUIRE(test::run_python("from collections import OrderedDict\n"
                           "torch.save(OrderedDict(w=torch.ones(2), b=torch.ones(1)), '" + ordered + "')\n"
                           "torch.save({'w': torch.ones(2)}, '" + legacy + "', _use_new_zipfile_serialization=False)\n"
                           "torch.save({'model': {'w': torch.ones(2), 'b': torch.ones(1)}, 'epoch': 3}, '" + nested + "')\n"
                           "torch.save({'w': torch.ones(2)}, '" + single + "')\n") == 0);
  try {
    read_state_dict(ordered);
    FAIL("an OrderedDict pickle should not load");
  } catch (const WeightFileError& e) {
    CHECK(e.path() == ordered);
    CHECK_THAT(e.what(), Catch::Contains("torch.save(dict(model.state_dict()), path)"));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }
  CHECK_THROWS_WITH(read_state_dict(legacy), Catch::Contains("legacy torch.save format"));
  CHECK_THROWS_WITH(read_state_dict(nested), Catch::Contains("value of 'model' is GenericDict, not a tensor"));
  CHECK_THROWS_WITH(read_state_dict(single), Catch::Contains("a dict with a single entry?"));
}

TEST_CASE("save_state_dict leaves no file behind when it cannot write", "[nn][weights]") {
  const auto tmp = test::temp_dir("weights_atomic");
  const std::string path = (tmp / "no_such_dir" / "w.pt").string();
  // A filesystem_error that names the file and says why (the commands print it in one line).
  try {
    save_state_dict({{"w", torch::ones({2})}}, path);
    FAIL("no error");
  } catch (const fs::filesystem_error& e) {
    CHECK(e.path1() == fs::path(path));
    CHECK(e.code() == std::errc::no_such_file_or_directory);
  }
  CHECK_FALSE(fs::exists(tmp / "no_such_dir"));
}

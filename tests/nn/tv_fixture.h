// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test helpers for torchvision parity: fixture folders made by tests/nn/tv_export.py, tensor comparison.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <torch/types.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "catch_torch.h"
#include "support/skip.h"
#include "nn/weights/weight_file.h"

namespace detlab::test {

/// The folder DETLAB_BUILD_DIR/tv_fixtures/<model>/ made by tests/nn/tv_export.py (state_dict.pt, inputs.pt,
/// outputs.pt, meta.json); runs the script with DETLAB_PYTHON the first time in a build folder. Concurrent test
/// processes serialise on a lock file (and the script renames a finished folder into place atomically).
/// Throws std::runtime_error when the script fails (no torchvision?); with DETLAB_SKIP_TV_PARITY=1 in the
/// environment reports the test as skipped (support/skip.h) and returns an empty path: the caller returns.
inline std::filesystem::path tv_fixture(const std::string& model) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(DETLAB_BUILD_DIR) / "tv_fixtures";
  const fs::path dir = root / model;
  if (fs::exists(dir / "meta.json")) return dir;
  fs::create_directories(root);
  const std::string lock_path = (root / ("." + model + ".lock")).string();
  const int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR, 0644);
  if (fd >= 0) ::flock(fd, LOCK_EX);  // released by close(), also when an exception leaves this scope
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{fd};
  if (fs::exists(dir / "meta.json")) return dir;  // another process made it while we waited
  const std::string cmd = std::string("'") + DETLAB_PYTHON + "' '" + DETLAB_REPO_ROOT + "/tests/nn/tv_export.py' '" +
                          model + "' '" + root.string() + "' > /dev/null";
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::exists(dir / "meta.json")) {
    if (testing::env_flag("DETLAB_SKIP_TV_PARITY")) {
      testing::report_skipped("torchvision fixture '" + model + "' could not be made and DETLAB_SKIP_TV_PARITY=1");
      return {};
    }
    throw std::runtime_error("tv_fixture: '" + cmd + "' failed (exit " + std::to_string(rc) +
                             "); it needs torch + torchvision for " DETLAB_PYTHON
                             " (install python3-torchvision, or set DETLAB_SKIP_TV_PARITY=1 to skip the parity tests)");
  }
  return dir;
}

/// A dict of tensors saved by torch.save(dict) (inputs.pt, outputs.pt, state_dict.pt of a fixture).
inline std::map<std::string, torch::Tensor> load_tensors(const std::filesystem::path& file) {
  return read_pickled_state_dict(file.string());
}

/// Tolerance of the parity tests: max |actual - expected| <= 1e-4 * max(1, max |expected|), i.e. 1e-4 absolute
/// for outputs of magnitude up to 1 and 1e-4 relative to the largest value beyond. Why relative: the fixtures'
/// activations reach about 20, and float32 sums over thousands of products change in the last bits with the
/// summation order; torchvision's own ResNet-50 layer4 (max 11.7) differs by 4.3e-4 between 1 and 2 threads.
/// Our eval-mode forward folds norms into the convolutions and runs channels-last (nn/backbones/inference_conv.h),
/// so no output is bit-identical; a test that needs a looser bound says why (fasterrcnn_resnet50_fpn_backbone).
inline double parity_tolerance(const torch::Tensor& expected, double relative = 1e-4) {
  return relative * std::max(1.0, expected.abs().max().item<double>());
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

/// Runs a Python snippet with DETLAB_PYTHON (torch imported); returns its exit code.
inline int run_python(const std::string& code) {
  namespace fs = std::filesystem;
  const fs::path script = fs::path(DETLAB_BUILD_DIR) / ("py_snippet_" + std::to_string(::getpid()) + ".py");
  {
    std::FILE* f = std::fopen(script.c_str(), "w");
    if (!f) throw std::runtime_error("run_python: cannot write " + script.string());
    std::fputs(("import torch\n" + code + "\n").c_str(), f);
    std::fclose(f);
  }
  const int rc = std::system((std::string("'") + DETLAB_PYTHON + "' '" + script.string() + "'").c_str());
  fs::remove(script);
  return rc;
}

/// Whether DETLAB_PYTHON imports torch (python3-torch, which python3-torchvision brings), asked once.
inline bool python_has_torch() {
  static const bool has =
      std::system((std::string("'") + DETLAB_PYTHON + "' -c 'import torch' > /dev/null 2>&1").c_str()) == 0;
  return has;
}

/// A fresh empty folder under DETLAB_BUILD_DIR for one test's files.
inline std::filesystem::path temp_dir(const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(DETLAB_BUILD_DIR) / "test_tmp" / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace detlab::test

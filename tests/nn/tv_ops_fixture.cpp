// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test helper: loads (and on first use produces) the torchvision parity fixtures of the ops tests.
#include "tv_ops_fixture.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

#include "support/skip.h"

namespace fs = std::filesystem;

namespace detlab::test {
namespace {

const fs::path kScript = fs::path(DETLAB_REPO_ROOT) / "tests" / "nn" / "tv_ops_fixtures.py";
const fs::path kDir = fs::path(DETLAB_BUILD_DIR) / "tv_ops";

bool python_has_torchvision() {
  static const bool has = [] {
    const std::string cmd = std::string("\"") + DETLAB_PYTHON + "\" -c \"import torchvision\" > /dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }();
  return has;
}

bool stale(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return true;
  return fs::last_write_time(file, ec) < fs::last_write_time(kScript, ec);
}

}  // namespace

std::optional<TvOpsFixture> TvOpsFixture::load(const std::string& name) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const fs::path file = kDir / (name + ".pt");
  if (stale(file)) {
    if (!testing::tool_available(python_has_torchvision(), std::string("torchvision for ") + DETLAB_PYTHON,
                                 "DETLAB_SKIP_TV_PARITY"))
      return std::nullopt;
    // One run writes every fixture: one Python start-up (about 2 s) instead of one per fixture.
    const std::string cmd =
        std::string("\"") + DETLAB_PYTHON + "\" \"" + kScript.string() + "\" \"" + kDir.string() + "\"";
    INFO("running " << cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
    REQUIRE(fs::exists(file));
  }
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const c10::IValue value = torch::jit::pickle_load(bytes);
  REQUIRE(value.isGenericDict());
  return TvOpsFixture(value.toGenericDict());
}

c10::IValue TvOpsFixture::at_key(const std::string& key) const {
  const auto it = dict_.find(c10::IValue(key));
  if (it == dict_.end()) FAIL("fixture has no key '" << key << "'");
  return it->value();
}

bool TvOpsFixture::has(const std::string& key) const { return dict_.contains(c10::IValue(key)); }
at::Tensor TvOpsFixture::tensor(const std::string& key) const { return at_key(key).toTensor(); }
int64_t TvOpsFixture::integer(const std::string& key) const { return at_key(key).toInt(); }
double TvOpsFixture::real(const std::string& key) const { return at_key(key).toDouble(); }
bool TvOpsFixture::flag(const std::string& key) const { return at_key(key).toBool(); }

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  if (a.numel() == 0) return 0.0;
  const at::Tensor da = a.detach().to(at::kCPU).to(at::kDouble), db = b.detach().to(at::kCPU).to(at::kDouble);
  // NaN in the same places counts as equal (e.g. IoU of two empty boxes); elsewhere it is an infinite difference.
  const at::Tensor both_nan = da.isnan() & db.isnan();
  const at::Tensor diff = at::where(both_nan, at::zeros_like(da), (da - db).abs());
  return at::where(diff.isnan(), at::full_like(diff, INFINITY), diff).max().item<double>();
}

}  // namespace detlab::test

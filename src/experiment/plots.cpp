// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// make_plots: locate the interpreter and the scripts, run the right script.
#include "experiment/plots.h"

#include <sys/wait.h>

#include <cstdlib>
#include <system_error>

#include "core/error.h"

// Set by src/experiment/CMakeLists.txt.
#ifndef DETLAB_PLOT_PYTHON
#define DETLAB_PLOT_PYTHON "/usr/bin/python3"
#endif

namespace detlab {

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string plot_python() {
  const char* env = std::getenv("DETLAB_PYTHON");
  return env && *env ? env : DETLAB_PLOT_PYTHON;
}

std::vector<fs::path> plot_script_candidates() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {fs::path("share") / "detlab" / "plots"};
  const fs::path dir = exe.parent_path();
  return {dir / ".." / "share" / "detlab" / "plots", dir / ".." / ".." / "share" / "detlab" / "plots"};
}

fs::path plot_scripts_dir() {
  const char* env = std::getenv("DETLAB_PLOT_SCRIPTS");
  if (env && *env) return fs::path(env);
  const std::vector<fs::path> candidates = plot_script_candidates();
  for (const fs::path& c : candidates)
    if (fs::exists(c / "plot_compare.py")) return c.lexically_normal();
  return candidates.front().lexically_normal();
}

std::string results_kind(const fs::path& run_dir) {
  if (fs::exists(run_dir / "summary.json")) return "compare";
  if (fs::exists(run_dir / "ablation.json")) return "ablation";
  return "";
}

std::string make_plots(const fs::path& run_dir, bool quiet) {
  const std::string kind = results_kind(run_dir);
  if (kind.empty())
    throw InputError(run_dir.string(), "",
                     "not a results folder (no summary.json from detlab compare, no ablation.json from detlab ablate)");
  const fs::path script = plot_scripts_dir() / ("plot_" + kind + ".py");
  if (!fs::exists(script)) return "plotting script " + script.string() + " not found (set DETLAB_PLOT_SCRIPTS)";
  const std::string python = plot_python();
  std::string cmd = quote(python) + " " + quote(script.string()) + " " + quote(run_dir.string());
  if (quiet) cmd += " --quiet";
  const int status = std::system(cmd.c_str());
  if (status == -1) return "could not start " + python;
  if (!WIFEXITED(status)) return "the plotting script was killed (" + script.string() + ")";
  const int code = WEXITSTATUS(status);
  if (code == 127) return python + " not found (set DETLAB_PYTHON to a Python 3 with matplotlib and pandas)";
  if (code != 0) return "the plotting script failed with exit code " + std::to_string(code) + " (" + script.string() + ")";
  return "";
}

}  // namespace detlab

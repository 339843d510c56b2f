// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Environment probing for manifest.json.
#include "experiment/manifest.h"

#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/code_identity.h"

// Build-time versions, passed by src/experiment/CMakeLists.txt from the CMake packages that were found.
#ifndef DETLAB_VERSION
#define DETLAB_VERSION "unknown"
#endif
#ifndef DETLAB_OPENCV_VERSION
#define DETLAB_OPENCV_VERSION "unknown"
#endif
#ifndef DETLAB_TORCH_VERSION
#define DETLAB_TORCH_VERSION "not built"
#endif
#ifndef DETLAB_DLIB_VERSION
#define DETLAB_DLIB_VERSION "unknown"
#endif

namespace detlab {

namespace {

/// Output of a shell command (stderr discarded), trailing newline removed; empty on failure.
std::string capture(const std::string& command, bool* ok = nullptr) {
  std::string out;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (!pipe) {
    if (ok) *ok = false;
    return out;
  }
  std::array<char, 256> buf{};
  while (fgets(buf.data(), static_cast<int>(buf.size()), pipe)) out += buf.data();
  const int status = pclose(pipe);
  if (ok) *ok = status == 0;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
    return v;
  }
  return "unknown";
}

bool shell_safe(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string("-_./=:,@+%").find(c) != std::string::npos))
      return false;
  return true;
}

}  // namespace

Environment probe_environment() {
  Environment env;
  bool ok = false;
  const std::string head = capture("git rev-parse HEAD", &ok);
  if (ok && head.size() == 40) {
    env.git_commit = head;
    env.git_dirty = !capture("git status --porcelain -uno").empty();
  }
  env.build_commit = build_fingerprint().commit;
  env.build_dirty = build_fingerprint().dirty;
  env.libraries = {{"detlab", DETLAB_VERSION},
                   {"OpenCV", DETLAB_OPENCV_VERSION},
                   {"LibTorch", DETLAB_TORCH_VERSION},
                   {"dlib", DETLAB_DLIB_VERSION},
                   {"compiler", __VERSION__}};
  env.cpu = cpu_model();
  env.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) env.hostname = host.data();
  return env;
}

std::string environment_json(const Environment& env) {
  nlohmann::json j;
  j["git_commit"] = env.git_commit;
  j["git_dirty"] = env.git_dirty;
  j["build_commit"] = env.build_commit;
  j["build_dirty"] = env.build_dirty;
  j["libraries"] = env.libraries;
  j["cpu"] = env.cpu;
  j["hardware_threads"] = env.hardware_threads;
  j["hostname"] = env.hostname;
  return j.dump();
}

std::string iso_time_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string join_command_line(const std::string& program, const std::vector<std::string>& args) {
  std::string s = program;
  for (const std::string& a : args) {
    s += ' ';
    if (shell_safe(a)) {
      s += a;
      continue;
    }
    s += '\'';
    for (char c : a) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    s += '\'';
  }
  return s;
}

}  // namespace detlab

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The benchmarks' common parts: their command line, timing ours and the peer's runs alternately, the medians,
// and the line that records the conditions of a run (OpenMP wait policy, load average, cores).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "peer_process.h"

namespace detlab::bench {

/// --threads 1,2 --rounds R --reps K --filter SUBSTRING, plus integer options of the benchmark's own (`extra`,
/// name -> value, given with their defaults). parse() returns false after printing the usage line.
struct Args {
  std::vector<int> threads = {1, 2};
  int rounds = 5, reps = 2;
  std::string filter;
  std::map<std::string, int> extra;

  bool parse(int argc, char** argv, const std::string& program) {
    try {
      for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("missing value after " + a);
        const std::string v = argv[++i];
        if (a == "--threads") threads = ints(v);
        else if (a == "--rounds") rounds = std::stoi(v);
        else if (a == "--reps") reps = std::stoi(v);
        else if (a == "--filter") filter = v;
        else if (a.rfind("--", 0) == 0 && extra.count(a.substr(2))) extra[a.substr(2)] = std::stoi(v);
        else throw std::invalid_argument("unknown option " + a);
      }
      if (threads.empty() || rounds < 1 || reps < 1) throw std::invalid_argument("threads, rounds and reps must be >= 1");
      return true;
    } catch (const std::exception& e) {
      std::string usage = "usage: " + program + " [--threads " + join_ints() + "] [--rounds " + std::to_string(rounds) +
                          "] [--reps " + std::to_string(reps) + "]";
      for (const auto& [name, value] : extra) usage += " [--" + name + " " + std::to_string(value) + "]";
      std::fprintf(stderr, "%s: %s\n%s [--filter SUBSTRING]\n", program.c_str(), e.what(), usage.c_str());
      return false;
    }
  }
  bool selected(const std::string& name) const { return filter.empty() || name.find(filter) != std::string::npos; }

 private:
  static std::vector<int> ints(const std::string& s) {
    std::vector<int> v;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) v.push_back(std::stoi(item));
    return v;
  }
  std::string join_ints() const {
    std::string s;
    for (int t : threads) s += (s.empty() ? "" : ",") + std::to_string(t);
    return s;
  }
};

inline double median(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  std::vector<double> v = values;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Milliseconds of ours and of the peer's runs of one case.
struct Timings {
  std::vector<double> ours, theirs;
  double ours_median() const { return median(ours); }
  double theirs_median() const { return median(theirs); }
  double median_ratio() const { return ours_median() / theirs_median(); }
  double min_ratio() const {
    return *std::min_element(ours.begin(), ours.end()) / *std::min_element(theirs.begin(), theirs.end());
  }
};

/// Each round runs `step` reps times, then asks the peer for "time <peer_case> <reps>", so that background load
/// hits both sides alike. `step` is warmed up once first (the peer warms up in each "time" command).
/// Returns nothing when the peer failed (it has printed why).
inline std::optional<Timings> time_alternating(PeerProcess& peer, const std::string& peer_case,
                                               const std::function<void()>& step, int rounds, int reps) {
  step();
  Timings t;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < reps; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      step();
      t.ours.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const auto reply = peer.ask("time " + peer_case + " " + std::to_string(reps));
    if (!reply) return std::nullopt;
    for (const auto& w : *reply) t.theirs.push_back(std::stod(w));
  }
  return t;
}

/// "medians of R rounds x K runs, alternating ours / <peer>; OMP_WAIT_POLICY=..., load average L on N cores".
inline std::string conditions(int rounds, int reps, const std::string& peer = "torchvision") {
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  std::string load = "?";
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) load = std::string(buf).substr(0, std::string(buf).find(' '));
    std::fclose(f);
  }
  return "medians of " + std::to_string(rounds) + " rounds x " + std::to_string(reps) + " runs, alternating ours / " +
         peer + "; OMP_WAIT_POLICY=" + (wait_policy ? wait_policy : "(unset)") + ", load average " + load + " on " +
         std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
}

}  // namespace detlab::bench

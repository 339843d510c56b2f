// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Corpus replay without libFuzzer: `test_fuzz_replay TARGET DIR...` feeds every file under each DIR to the
// target once, so that the minimised corpus and every crash reproducer in tests/fuzz/corpus/ run in `make test`
// with the normal compiler. An empty corpus fails (a replay that feeds nothing proves nothing).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "fuzz/fuzz_targets.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: test_fuzz_replay TARGET CORPUS_DIR_OR_FILE...\n";
    return 2;
  }
  const auto& all = detlab::fuzz::targets();
  const auto it = std::find_if(all.begin(), all.end(), [&](const auto& t) { return t.first == argv[1]; });
  if (it == all.end()) {
    std::cerr << "unknown target '" << argv[1] << "'\n";
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << it->first << ": no corpus files\n";
    return 1;
  }
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    it->second(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << it->first << ": " << files.size() << " corpus files replayed\n";
  return 0;
}

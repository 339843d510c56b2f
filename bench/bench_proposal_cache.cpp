// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// bench_proposal_cache: a proposal cache of COCO train2017's size (118,287 images x 2,000 boxes, ~1.9 GB in
// version 2) written image by image with ProposalFileWriter, then read per image (ProposalCache: index at open,
// one checksummed record per image from the memory map) against the version-1 way of reading the same boxes
// (the whole file decoded into a map before the first image), each reader in a fresh process: time to the
// first image, time per image over 10,000 images in random order, peak resident memory.
// usage: bench_proposal_cache [--images N] [--boxes B] [--reads K] [--dir D]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "proposals/proposal_file.h"

using namespace detlab;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Boxes synthetic_boxes(int image, int count) {
  std::mt19937 rng(static_cast<uint32_t>(image));
  Boxes boxes(static_cast<size_t>(count));
  for (Box& b : boxes) {
    const float x = static_cast<float>(rng() % 600), y = static_cast<float>(rng() % 440);
    b = {x, y, x + 1 + static_cast<float>(rng() % 200), y + 1 + static_cast<float>(rng() % 200)};
  }
  return boxes;
}

std::string image_name(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012d", i + 1);
  return buf;
}

/// The version-1 layout (no checksums, no index), written here for the comparison.
void write_v1(const fs::path& file, int images, int boxes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  auto put32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };  // little-endian host
  out.write("DLPROPS\0", 8);
  put32(1);
  put32(0);
  put32(static_cast<uint32_t>(images));
  for (int i = 0; i < images; ++i) {
    const std::string name = image_name(i);
    const uint16_t n = static_cast<uint16_t>(name.size());
    out.write(reinterpret_cast<const char*>(&n), 2);
    out << name;
    put32(static_cast<uint32_t>(boxes));
    for (const Box& b : synthetic_boxes(i, boxes))
      for (float v : {b.x1, b.y1, b.x2, b.y2}) {
        const int16_t s = static_cast<int16_t>(v);
        out.write(reinterpret_cast<const char*>(&s), 2);
      }
  }
}

int child(const std::string& mode, const fs::path& file, int images, int reads) {
  const auto t0 = Clock::now();
  std::vector<int> order(static_cast<size_t>(images));
  for (int i = 0; i < images; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  order.resize(static_cast<size_t>(std::min(reads, images)));
  size_t total = 0;
  double open_s = 0, first_s = 0, read_s = 0;
  if (mode == "v2") {
    const ProposalCache cache(file);
    open_s = since(t0);
    const auto t1 = Clock::now();
    for (size_t k = 0; k < order.size(); ++k) {
      total += cache.boxes(image_name(order[k]))->size();
      if (k == 0) first_s = since(t0);
    }
    read_s = since(t1);
  } else {
    const ProposalFile all = read_proposal_file(file);  // version 1: decoded whole
    open_s = since(t0);
    const auto t1 = Clock::now();
    for (size_t k = 0; k < order.size(); ++k) {
      total += all.images.at(image_name(order[k])).size();
      if (k == 0) first_s = since(t0);
    }
    read_s = since(t1);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("ok %.4f %.4f %.3f %ld %zu\n", open_s, first_s, 1e6 * read_s / static_cast<double>(order.size()),
              ru.ru_maxrss, total);
  return 0;
}

std::string run(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out = buf;
  if (!p || pclose(p) != 0) {
    std::cerr << "failed: " << command << "\n";
    std::exit(1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--child")
    return child(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]));
  int images = 118287, boxes = 2000, reads = 10000;
  fs::path dir = "/tmp/detlab_bench_proposals";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--images") images = std::atoi(argv[i + 1]);
    else if (a == "--boxes") boxes = std::atoi(argv[i + 1]);
    else if (a == "--reads") reads = std::atoi(argv[i + 1]);
    else if (a == "--dir") dir = argv[i + 1];
  }
  fs::create_directories(dir);
  const fs::path v2 = dir / "cache_v2.bin", v1 = dir / "cache_v1.bin";
  auto t0 = Clock::now();
  {
    ProposalFileWriter w(v2, "{type: synthetic}", /*resume=*/false);
    for (int i = 0; i < images; ++i) w.add(image_name(i), synthetic_boxes(i, boxes));
    w.finish();
  }
  const double write_s = since(t0);
  write_v1(v1, images, boxes);
  const double gib2 = static_cast<double>(fs::file_size(v2)) / (1 << 30);
  std::printf("%d images x %d boxes: version 2 %.2f GiB written in %.1f s (%.0f MiB/s, image by image)\n", images,
              boxes, gib2, write_s, gib2 * 1024 / write_s);
  const std::string self = fs::canonical("/proc/self/exe").string();
  std::printf("%-34s %10s %12s %14s %10s\n", "reader", "open s", "first img s", "us per image", "peak MiB");
  for (const auto& [label, mode, file] : {std::tuple<const char*, const char*, fs::path>{"ProposalCache (v2, mapped)", "v2", v2},
                                          {"decode whole file (v1 reader)", "v1", v1}}) {
    std::istringstream words(run(self + " --child " + mode + " " + file.string() + " " + std::to_string(images) +
                                 " " + std::to_string(reads)));
    std::string ok;
    double open_s = 0, first_s = 0, us = 0;
    long peak = 0;
    words >> ok >> open_s >> first_s >> us >> peak;
    std::printf("%-34s %10.3f %12.3f %14.1f %10.0f\n", label, open_s, first_s, us, static_cast<double>(peak) / 1024);
  }
  fs::remove(v1);
  fs::remove(v2);
  return 0;
}

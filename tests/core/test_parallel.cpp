// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parallel_for: every index once, worker ids, first exception propagated.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/parallel.h"

using namespace detlab;

TEST_CASE("parallel_for visits every index exactly once", "[core][parallel]") {
  for (int threads : {1, 2, 4, 0}) {
    std::vector<std::atomic<int>> seen(1000);
    std::atomic<int> max_worker{0};
    parallel_for(1000, threads, [&](int i, int w) {
      ++seen[i];
      int m = max_worker;
      while (w > m && !max_worker.compare_exchange_weak(m, w)) {
      }
    });
    for (auto& s : seen) REQUIRE(s == 1);
    REQUIRE(max_worker < resolve_threads(threads, 1000));
  }
  parallel_for(0, 4, [](int, int) { FAIL("no work expected"); });
}

TEST_CASE("parallel_for rethrows the first exception", "[core][parallel]") {
  for (int threads : {1, 3}) {
    std::atomic<int> calls{0};
    std::atomic<bool> thrown{false};
    REQUIRE_THROWS_WITH(parallel_for(100, threads,
                                     [&](int i, int) {
                                       ++calls;
                                       if (i == 10) {
                                         thrown = true;
                                         throw std::runtime_error("boom 10");
                                       }
                                       // Later items take a while and none ends before the throw, so the
                                       // check below does not depend on how the scheduler treats the
                                       // throwing thread (with instant items and a busy machine, the other
                                       // workers once finished all 100 before it reached its catch).
                                       if (i > 10) {
                                         while (!thrown) std::this_thread::yield();
                                         std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                       }
                                     }),
                        "boom 10");
    REQUIRE(calls < 100);  // the hand-out stopped
  }
}

TEST_CASE("resolve_threads", "[core][parallel]") {
  REQUIRE(resolve_threads(8, 3) == 3);
  REQUIRE(resolve_threads(2, 100) == 2);
  REQUIRE(resolve_threads(0, 1) == 1);
  REQUIRE(resolve_threads(5, 0) == 1);
}

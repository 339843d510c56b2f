// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parallel_for over independent work items (categories, classes) with a fixed, deterministic partition.
#pragma once

#include <functional>

namespace detlab::detail {

/// Number of worker threads for a `threads` option: the value itself when > 0, else the hardware concurrency.
int eval_threads(int threads);

/// Calls fn(i) for every i in [0, n) on up to `threads` threads (eval_threads). Items are handed out by an
/// atomic counter; fn must write only to state owned by item i, so that results do not depend on the thread
/// count. The first exception thrown by fn is rethrown after all threads have stopped.
void eval_parallel_for(int n, int threads, const std::function<void(int)>& fn);

}  // namespace detlab::detail

// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parallel_for over indices with worker threads: per-image work (proposals, HOG pyramids, mining passes) and the
// evaluators' per-category work; the one thread fan-out of the project.
#pragma once

#include <functional>

namespace detlab {

/// Worker count for `threads` (0 or less: every hardware thread), never more than `tasks` nor less than 1.
int resolve_threads(int threads, int tasks);

/// Calls fn(i, worker) for i in [0, n), spread over resolve_threads(threads, n) threads; worker in
/// [0, workers) identifies the calling thread (for per-thread state). Indices are handed out in increasing
/// order, one at a time, so fn must write only to state owned by item i (or by `worker`) for results that do not
/// depend on the thread count. The first exception thrown by fn stops the hand-out and is rethrown here once all
/// workers have returned. threads == 1 runs inline on the calling thread.
void parallel_for(int n, int threads, const std::function<void(int index, int worker)>& fn);

}  // namespace detlab

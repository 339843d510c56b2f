// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETLAB_TARGET_CLONES: compile a hot loop twice (AVX2 and the baseline) and pick one at load time.
// DETLAB_ALWAYS_INLINE: the loop bodies those clones inline (so that each clone compiles them for its target).
#pragma once

// The build targets the baseline x86-64 ISA (SSE2), so auto-vectorised loops use 4-float vectors. On GCC / Linux
// (ifunc), target_clones adds an AVX2 copy chosen at load time when the CPU has AVX2 (about 2x on the NMS and
// RoIAlign inner loops). FMA stays off in both copies ("avx2" does not imply "fma"), so both round identically.
// Apply it to non-template functions only (GCC does not clone templates); put the loop in an inline template.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DETLAB_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DETLAB_TARGET_CLONES
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DETLAB_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define DETLAB_ALWAYS_INLINE inline
#endif

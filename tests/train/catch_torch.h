// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Catch2 together with LibTorch: Debian's LibTorch logs through glog, whose CHECK(cond) macro replaces Catch's
// CHECK when torch is included after catch.hpp (as the test PCH does). Include this first in torch tests.
#pragma once

#include <torch/types.h>  // pulls in c10/util/Logging.h -> glog/logging.h (include-guarded: once only)

#include <catch2/catch.hpp>

#if defined(CHECK) && !defined(CATCH_CONFIG_DISABLE)
#undef CHECK
#define CHECK(...) INTERNAL_CATCH_TEST("CHECK", Catch::ResultDisposition::ContinueOnFailure, __VA_ARGS__)
#endif

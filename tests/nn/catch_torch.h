// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Catch2 together with torch: restores Catch's CHECK, which torch's glog include replaces with an aborting one.
#pragma once

// The test PCH includes <catch2/catch.hpp> before <torch/types.h>; torch pulls in glog, whose logging.h
// redefines CHECK(condition) as a fatal assertion (the process aborts at the first failure, and checks with
// commas in braces do not compile). Include this header after every other include of a test file.
#include <catch2/catch.hpp>
#include <torch/types.h>

#undef CHECK
#define CHECK(...) INTERNAL_CATCH_TEST("CHECK", Catch::ResultDisposition::ContinueOnFailure, __VA_ARGS__)

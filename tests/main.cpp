// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The only translation unit with CATCH_CONFIG_MAIN; linked into every test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

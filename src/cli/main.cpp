// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab executable entry point.
#include "cli/command.h"

int main(int argc, char** argv) { return detlab::cli::run(std::vector<std::string>(argv + 1, argv + argc)); }

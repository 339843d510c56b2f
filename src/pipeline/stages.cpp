// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Anchors the stage interfaces' vtables in this library.
#include "pipeline/stages.h"

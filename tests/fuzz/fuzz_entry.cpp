// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// libFuzzer's entry point for one target, chosen at compile time (-DDETLAB_FUZZ_TARGET=voc_xml, ...).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return detlab::fuzz::DETLAB_FUZZ_TARGET(data, size);
}

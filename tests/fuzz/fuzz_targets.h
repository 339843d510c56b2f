// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Fuzz targets for every reader of foreign files: one function per reader that feeds it arbitrary bytes. A
// reader may refuse the bytes only with an InputError (one line naming the file and the field); any other
// exception, a crash, a sanitizer report or a hang is a finding. The same functions serve libFuzzer
// (fuzz_entry.cpp, a clang build: tests/fuzz/README.md) and the corpus replay that runs in `make test`
// (replay_main.cpp, the normal build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace detlab::fuzz {

using Target = int (*)(const uint8_t* data, size_t size);

int voc_xml(const uint8_t* data, size_t size);       // Annotations/a.xml of a VOC folder -> read_voc
int dlib_xml(const uint8_t* data, size_t size);      // a dlib imglab file -> read_dlib_xml
int coco_json(const uint8_t* data, size_t size);     // an instances file -> read_coco (streamed = checked)
int coco_results(const uint8_t* data, size_t size);  // a results file against a fixed 2-image set ->
                                                     // read_coco_results (streamed = checked)
int yolo_labels(const uint8_t* data, size_t size);   // one label file of a YOLO folder -> read_yolo
int yaml_config(const uint8_t* data, size_t size);   // first line: a --set assignment; the rest: a config with
                                                     // _base_ files beside it -> Config::parse, set, lookups
int image_header(const uint8_t* data, size_t size);  // an image file -> read_image_size
int proposal_cache(const uint8_t* data, size_t size);  // a proposal cache file -> ProposalCache, every image

/// Every target by name, in a fixed order.
const std::vector<std::pair<std::string, Target>>& targets();

}  // namespace detlab::fuzz

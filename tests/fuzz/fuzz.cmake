# SPDX-License-Identifier: MIT
# Fuzz targets of the readers (tests/fuzz/, included from tests/CMakeLists.txt). Every build replays the corpus
# in tests/fuzz/corpus/<target>/ (seeds and every crash reproducer) as ordinary ctests through test_fuzz_replay;
# a clang build with -DDETLAB_FUZZ=ON also makes one libFuzzer binary per target (tests/fuzz/README.md).
set(fuzz_targets voc_xml dlib_xml coco_json coco_results yolo_labels yaml_config image_header proposal_cache)
add_library(detlab_fuzz_targets STATIC ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_targets.cpp)
target_include_directories(detlab_fuzz_targets PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(detlab_fuzz_targets PUBLIC detlab_classical detlab_data detlab_eval detlab_config detlab_core)
detlab_warnings(detlab_fuzz_targets)

add_executable(test_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.cpp)
target_link_libraries(test_fuzz_replay PRIVATE detlab_fuzz_targets)
detlab_warnings(test_fuzz_replay)
foreach(t ${fuzz_targets})
  add_test(NAME fuzz_replay_${t} COMMAND test_fuzz_replay ${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t})
  set_tests_properties(fuzz_replay_${t} PROPERTIES TIMEOUT 120 PASS_REGULAR_EXPRESSION "corpus files replayed")
endforeach()

if(DETLAB_FUZZ)
  foreach(t ${fuzz_targets})
    add_executable(fuzz_${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_entry.cpp)
    target_compile_definitions(fuzz_${t} PRIVATE DETLAB_FUZZ_TARGET=${t})
    target_link_libraries(fuzz_${t} PRIVATE detlab_fuzz_targets)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()

# SPDX-License-Identifier: MIT
# CLI-level tests of detlab compare / ablate / plot and the notebooks (included from tests/CMakeLists.txt).
# One fixture test produces a quick comparison and a small ablation on the synthetic shapes (with plots); the
# notebook tests then execute notebooks/*.ipynb headless on that output.
if(NOT TARGET detlab)
  return()
endif()
set(quick_dir ${CMAKE_BINARY_DIR}/tests/quick_results)
add_test(NAME cli_compare_ablate_quick
  COMMAND sh -c "rm -rf ${quick_dir} && D=$<TARGET_FILE:detlab> && \
\$D compare tests/cli/compare_synthetic.yaml --quick --threads 2 --out ${quick_dir}/compare -q && \
\$D ablate tests/cli/ablate_synthetic.yaml --threads 2 --out ${quick_dir}/ablation -q && \
\$D ablate tests/cli/ablate_synthetic.yaml --threads 2 --out ${quick_dir}/ablation -q && \
ls ${quick_dir}/compare/plots ${quick_dir}/ablation/plots"
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# The rerun of the ablation must reuse all six points; every plot must exist.
set_tests_properties(cli_compare_ablate_quick PROPERTIES
  FIXTURES_SETUP detlab_quick_results TIMEOUT 900
  PASS_REGULAR_EXPRESSION "HOG\\+SVM \\(dlib\\).*YOLO.*6 reused, 0 trained, 0 evaluated, 0 failed.*ablation.png.*ap_per_class.png.*detections_grid.png.*pr_curves.png.*proposal_recall.png.*speed_accuracy.png.*training_curves.png"
  FAIL_REGULAR_EXPRESSION "detlab [a-z]+: (internal )?error|failed:|Traceback|warning: plots")

find_program(DETLAB_JUPYTER jupyter)
if(DETLAB_JUPYTER)
  foreach(nb compare ablation training)
    add_test(NAME notebook_${nb}
      COMMAND ${CMAKE_COMMAND} -E env DETLAB_COMPARE_DIR=${quick_dir}/compare DETLAB_ABLATION_DIR=${quick_dir}/ablation
              ${DETLAB_JUPYTER} nbconvert --to notebook --execute ${PROJECT_SOURCE_DIR}/notebooks/${nb}.ipynb
              --output-dir ${quick_dir}/notebooks --ExecutePreprocessor.kernel_name=python3
              --ExecutePreprocessor.timeout=300
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/notebooks)
    set_tests_properties(notebook_${nb} PROPERTIES FIXTURES_REQUIRED detlab_quick_results TIMEOUT 600)
  endforeach()
endif()

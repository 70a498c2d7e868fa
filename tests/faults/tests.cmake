# Fault matrix: each sync type on each backend against a hostile simulated Bsale (label faults).
foreach(backend sqlite mysql)
  foreach(sync full daily)
    add_test(NAME faults.matrix_${sync}_${backend}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/matrix.sh ${backend} ${sync}
              $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> $<TARGET_FILE:compare_truth>
              ${CMAKE_CURRENT_BINARY_DIR}/faults_matrix_${sync}_${backend})
    set_tests_properties(faults.matrix_${sync}_${backend} PROPERTIES
      LABELS "faults;integration" SKIP_RETURN_CODE 77 TIMEOUT 900)
  endforeach()
endforeach()

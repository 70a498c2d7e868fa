# Sync scenarios against the simulator, on SQLite and on MariaDB (TEST_MYSQL_URL).
add_executable(compare_truth ${CMAKE_CURRENT_LIST_DIR}/compare_truth.c)
target_link_libraries(compare_truth PRIVATE petl_core)

# The faults scenario (a small store, no time-based checks) with patitas-etl and compare_truth
# under memcheck; every exit status is checked, so a memcheck error (99) fails it.
if(PETL_VG_ENABLED)
  petl_vg_wrapper(patitas-etl PETL_VG_ETL)
  petl_vg_wrapper(compare_truth PETL_VG_COMPARE)
  foreach(backend sqlite mysql)
    add_test(NAME valgrind.sync_faults_${backend}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/faults.sh ${backend} ${PETL_VG_ETL}
              $<TARGET_FILE:bsale-sim> ${PETL_VG_COMPARE}
              ${CMAKE_CURRENT_BINARY_DIR}/valgrind_faults_${backend})
    set_tests_properties(valgrind.sync_faults_${backend} PROPERTIES
      LABELS valgrind SKIP_RETURN_CODE 77 TIMEOUT 300)
  endforeach()
endif()

foreach(scenario fidelity faults real_shapes views daily_reads)
  foreach(backend sqlite mysql)
    add_test(NAME sync.${scenario}_${backend}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${scenario}.sh ${backend}
              $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> $<TARGET_FILE:compare_truth>
              ${CMAKE_CURRENT_BINARY_DIR}/sync_${scenario}_${backend})
    set_tests_properties(sync.${scenario}_${backend} PROPERTIES
      LABELS "sync;integration" SKIP_RETURN_CODE 77 TIMEOUT 600)
  endforeach()
endforeach()

# Incidents end to end: the runner against the scripted fake Bsale, on SQLite.
add_executable(test_sync_incidents ${CMAKE_CURRENT_LIST_DIR}/test_incidents.c)
target_link_libraries(test_sync_incidents PRIVATE petl_client_harness)
add_test(NAME sync.incidents COMMAND test_sync_incidents)
set_tests_properties(sync.incidents PROPERTIES LABELS sync TIMEOUT 120)

# Stock movements and documents' taxes and sellers: the runner against the scripted fake Bsale.
add_executable(test_sync_moves ${CMAKE_CURRENT_LIST_DIR}/test_moves.c)
target_link_libraries(test_sync_moves PRIVATE petl_client_harness PkgConfig::SQLITE)
add_test(NAME sync.moves COMMAND test_sync_moves)
set_tests_properties(sync.moves PROPERTIES LABELS sync TIMEOUT 120)

# Variant costs, and stock and prices on a plain daily sync (tests/sync/costs.sh).
foreach(backend sqlite mysql)
  add_test(NAME sync.costs_${backend}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/costs.sh ${backend}
            $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> $<TARGET_FILE:compare_truth>
            ${CMAKE_CURRENT_BINARY_DIR}/sync_costs_${backend})
  set_tests_properties(sync.costs_${backend} PROPERTIES
    LABELS "sync;integration" SKIP_RETURN_CODE 77 TIMEOUT 600)
endforeach()

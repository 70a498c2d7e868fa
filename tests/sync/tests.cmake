# Sync scenarios against the simulator, on SQLite and on MariaDB (TEST_MYSQL_URL).
add_executable(compare_truth ${CMAKE_CURRENT_LIST_DIR}/compare_truth.c)
target_link_libraries(compare_truth PRIVATE petl_core)

foreach(scenario fidelity faults)
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

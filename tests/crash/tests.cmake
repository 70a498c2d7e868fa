# Crash suite: syncs SIGKILLed at seeded points leave no half document, are never recorded
# succeeded, and a re-run converges to the simulator's truth. Per sync type and backend.
add_executable(crash_kill ${CMAKE_CURRENT_LIST_DIR}/crash_kill.c)
target_link_libraries(crash_kill PRIVATE petl_core)

foreach(sync full daily)
  foreach(backend sqlite mysql)
    add_test(NAME crash.${sync}_${backend}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/crash.sh ${sync} ${backend}
              $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> $<TARGET_FILE:compare_truth>
              $<TARGET_FILE:crash_kill> ${CMAKE_CURRENT_BINARY_DIR}/crash_${sync}_${backend})
    set_tests_properties(crash.${sync}_${backend} PROPERTIES
      LABELS "crash;integration" SKIP_RETURN_CODE 77 TIMEOUT 600)
  endforeach()
endforeach()

# An interrupted backfill is resumed from its first incomplete window, not restarted.
foreach(backend sqlite mysql)
  add_test(NAME crash.resume_${backend}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/resume.sh ${backend}
            $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> $<TARGET_FILE:compare_truth>
            ${CMAKE_CURRENT_BINARY_DIR}/resume_${backend})
  set_tests_properties(crash.resume_${backend} PROPERTIES
    LABELS "crash;integration" SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

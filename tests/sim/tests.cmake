# bsale-sim: API fidelity, faults and command line (label sim).
set(SIM_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(sim_test_proc STATIC ${SIM_TEST_DIR}/sim_proc.c)
target_link_libraries(sim_test_proc PUBLIC PkgConfig::CURL)
target_include_directories(sim_test_proc PUBLIC ${SIM_TEST_DIR})

foreach(name test_sim_api test_sim_faults test_sim_hostile test_sim_payments test_sim_docs
             test_sim_stock)
  if(EXISTS ${SIM_TEST_DIR}/${name}.c)
    add_executable(${name} ${SIM_TEST_DIR}/${name}.c)
    target_link_libraries(${name} PRIVATE sim_test_proc PkgConfig::JANSSON PkgConfig::CMOCKA m)
    add_test(NAME sim.${name} COMMAND ${name} $<TARGET_FILE:bsale-sim>)
    set_tests_properties(sim.${name} PROPERTIES LABELS sim TIMEOUT 300)
  endif()
endforeach()

add_test(NAME sim.cli COMMAND ${SIM_TEST_DIR}/check_cli.sh $<TARGET_FILE:bsale-sim>
         ${PROJECT_SOURCE_DIR})
set_tests_properties(sim.cli PROPERTIES LABELS sim TIMEOUT 60)

# Clean environments of 50 sizes: every start serves, none falls into the usage text.
add_test(NAME sim.env_starts COMMAND bash ${SIM_TEST_DIR}/env_starts.sh $<TARGET_FILE:bsale-sim>)
set_tests_properties(sim.env_starts PROPERTIES LABELS sim TIMEOUT 120)

# The simulator under memcheck through the API and fault suites (its exit status after SIGTERM
# is checked, so a memcheck error fails them).
if(PETL_VG_ENABLED)
  petl_vg_wrapper(bsale-sim PETL_VG_SIM)
  foreach(name test_sim_api test_sim_faults)
    add_test(NAME valgrind.${name} COMMAND ${name} ${PETL_VG_SIM})
    set_tests_properties(valgrind.${name} PROPERTIES LABELS valgrind TIMEOUT 300)
  endforeach()
endif()

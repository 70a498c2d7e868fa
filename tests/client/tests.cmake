# The Bsale fetcher against a scripted fake server (libmicrohttpd, in process).
set(PETL_CLIENT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(petl_client_harness STATIC ${PETL_CLIENT_TEST_DIR}/fake_bsale.c
            ${PETL_CLIENT_TEST_DIR}/harness.c)
target_include_directories(petl_client_harness PUBLIC ${PETL_CLIENT_TEST_DIR})
target_link_libraries(petl_client_harness PUBLIC petl_core PkgConfig::MHD PkgConfig::CMOCKA)

foreach(name paging errors rate bad)
  add_executable(test_client_${name} ${PETL_CLIENT_TEST_DIR}/test_client_${name}.c)
  target_link_libraries(test_client_${name} PRIVATE petl_client_harness)
  add_test(NAME client.${name} COMMAND test_client_${name})
  set_tests_properties(client.${name} PROPERTIES LABELS client TIMEOUT 120)
endforeach()

# The fetcher under memcheck: paging, errors and its unit test (the rate test measures time,
# which valgrind's slowdown would distort).
if(PETL_VG_ENABLED)
  foreach(t test_client_paging test_client_errors test_client_bad test_bsale_client)
    add_test(NAME valgrind.${t} COMMAND ${PETL_VG} $<TARGET_FILE:${t}>)
    set_tests_properties(valgrind.${t} PROPERTIES LABELS valgrind TIMEOUT 300)
  endforeach()
endif()

# bench/CMakeLists.txt, when present, builds every bench/bench_*.c; until then build ours here.
if(NOT EXISTS ${CMAKE_SOURCE_DIR}/bench/CMakeLists.txt)
  add_executable(bench_client ${CMAKE_SOURCE_DIR}/bench/bench_client.c)
  target_link_libraries(bench_client PRIVATE petl_core)
endif()

# The Bsale fetcher against a scripted fake server (libmicrohttpd, in process).
set(PETL_CLIENT_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(petl_client_harness STATIC ${PETL_CLIENT_TEST_DIR}/fake_bsale.c
            ${PETL_CLIENT_TEST_DIR}/harness.c)
target_include_directories(petl_client_harness PUBLIC ${PETL_CLIENT_TEST_DIR})
target_link_libraries(petl_client_harness PUBLIC petl_core PkgConfig::MHD PkgConfig::CMOCKA)

foreach(name paging errors rate)
  add_executable(test_client_${name} ${PETL_CLIENT_TEST_DIR}/test_client_${name}.c)
  target_link_libraries(test_client_${name} PRIVATE petl_client_harness)
  add_test(NAME client.${name} COMMAND test_client_${name})
  set_tests_properties(client.${name} PROPERTIES LABELS client TIMEOUT 120)
endforeach()

# bench/CMakeLists.txt, when present, builds every bench/bench_*.c; until then build ours here.
if(NOT EXISTS ${CMAKE_SOURCE_DIR}/bench/CMakeLists.txt)
  add_executable(bench_client ${CMAKE_SOURCE_DIR}/bench/bench_client.c)
  target_link_libraries(bench_client PRIVATE petl_core)
endif()

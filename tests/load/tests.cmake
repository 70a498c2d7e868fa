# Load suite (label `load`): slow clients and a keep-alive burst against the real `serve`,
# on loopback, bounded in count and time.
add_library(petl_test_procs STATIC ${CMAKE_CURRENT_LIST_DIR}/../support/serve_proc.c
            ${CMAKE_CURRENT_LIST_DIR}/../http/http_client.c)
target_include_directories(petl_test_procs PUBLIC ${CMAKE_CURRENT_LIST_DIR}/../support
                           ${CMAKE_CURRENT_LIST_DIR}/../http)
target_link_libraries(petl_test_procs PUBLIC petl_base PkgConfig::CURL)

add_executable(test_load ${CMAKE_CURRENT_LIST_DIR}/test_load.c)
target_link_libraries(test_load PRIVATE petl_test_procs PkgConfig::CMOCKA)
add_test(NAME load.http COMMAND test_load $<TARGET_FILE:patitas-etl>)
set_tests_properties(load.http PROPERTIES LABELS load TIMEOUT 240)

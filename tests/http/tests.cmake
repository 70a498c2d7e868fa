# HTTP API tests. test_http_api links the HTTP sources with a runner double
# instead of petl_core (the double defines the etl_* symbols itself).
file(GLOB PETL_HTTP_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/http_*.c)
list(APPEND PETL_HTTP_SOURCES ${PROJECT_SOURCE_DIR}/src/openapi.c
     ${PROJECT_SOURCE_DIR}/src/metrics.c ${CMAKE_CURRENT_LIST_DIR}/runner_double.c)
add_executable(test_http_api ${CMAKE_CURRENT_LIST_DIR}/test_http_api.c
               ${CMAKE_CURRENT_LIST_DIR}/http_client.c ${PETL_HTTP_SOURCES})
if(EXISTS ${PROJECT_SOURCE_DIR}/src/catalog.c)
  target_sources(test_http_api PRIVATE ${PROJECT_SOURCE_DIR}/src/catalog.c)
else()
  target_compile_definitions(test_http_api PRIVATE PETL_DOUBLE_CATALOG)
endif()
target_include_directories(test_http_api PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_http_api PRIVATE petl_base PkgConfig::MHD PkgConfig::CURL
                      PkgConfig::CMOCKA m)
add_test(NAME http.api COMMAND test_http_api)
set_tests_properties(http.api PROPERTIES LABELS http TIMEOUT 120)

# End to end against the real `patitas-etl serve`, runner and simulator: registered once
# the CLI wires `serve` to http_server_run.
set(PETL_SERVE_WIRED -1)
foreach(f main.c commands.c)
  if(EXISTS ${PROJECT_SOURCE_DIR}/src/${f})
    file(READ ${PROJECT_SOURCE_DIR}/src/${f} PETL_SRC_TEXT)
    string(FIND "${PETL_SRC_TEXT}" "http_server_run" PETL_FOUND)
    if(PETL_FOUND GREATER -1)
      set(PETL_SERVE_WIRED ${PETL_FOUND})
    endif()
  endif()
endforeach()
if(PETL_SERVE_WIRED GREATER -1 AND TARGET bsale-sim)
  add_executable(test_http_e2e ${CMAKE_CURRENT_LIST_DIR}/test_http_e2e.c
                 ${CMAKE_CURRENT_LIST_DIR}/http_client.c)
  target_include_directories(test_http_e2e PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_http_e2e PRIVATE petl_base PkgConfig::CURL PkgConfig::SQLITE
                        PkgConfig::CMOCKA)
  foreach(backend sqlite mysql)
    add_test(NAME http.e2e.${backend}
             COMMAND test_http_e2e $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> ${backend})
    set_tests_properties(http.e2e.${backend} PROPERTIES LABELS http TIMEOUT 180
                         SKIP_RETURN_CODE 77)
  endforeach()
endif()

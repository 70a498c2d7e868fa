# HTTP API tests. test_http_api links the HTTP sources with a runner double
# instead of petl_core (the double defines the etl_* symbols itself).
list(TRANSFORM PETL_HTTP_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/ OUTPUT_VARIABLE PETL_HTTP_FILES)
add_executable(test_http_api ${CMAKE_CURRENT_LIST_DIR}/test_http_api.c
               ${CMAKE_CURRENT_LIST_DIR}/http_client.c ${PETL_HTTP_FILES}
               ${CMAKE_CURRENT_LIST_DIR}/runner_double.c)
if(EXISTS ${PROJECT_SOURCE_DIR}/src/catalog.c)
  target_sources(test_http_api PRIVATE ${PROJECT_SOURCE_DIR}/src/catalog.c)
else()
  target_compile_definitions(test_http_api PRIVATE PETL_DOUBLE_CATALOG)
endif()
target_include_directories(test_http_api PRIVATE ${CMAKE_CURRENT_LIST_DIR})
# The status page reads the database itself: the store comes along.
target_link_libraries(test_http_api PRIVATE petl_store petl_base PkgConfig::MHD PkgConfig::CURL
                      PkgConfig::CMOCKA m)
add_test(NAME http.api COMMAND test_http_api)
set_tests_properties(http.api PROPERTIES LABELS http TIMEOUT 120)

# End to end against the real `patitas-etl serve`, runner and simulator.
if(TARGET bsale-sim)
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

# The OpenAPI document on stdout, for scripts/openapi-lint.
add_executable(openapi_dump ${CMAKE_CURRENT_LIST_DIR}/openapi_dump.c)
target_link_libraries(openapi_dump PRIVATE petl_http)

# The status page in headless Chromium (Debian's chromium, driven by Node over the DevTools
# protocol); SKIPPED only where chromium is missing outside CI. Screenshot: status-page.png.
find_program(PETL_NODE node)
if(PETL_NODE AND TARGET bsale-sim)
  add_test(NAME http.status_page.browser
           COMMAND ${PETL_NODE} ${CMAKE_CURRENT_LIST_DIR}/status_page_browser.mjs
                   $<TARGET_FILE:patitas-etl> $<TARGET_FILE:bsale-sim> ${PROJECT_BINARY_DIR})
  set_tests_properties(http.status_page.browser PROPERTIES LABELS http TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endif()

# The status page's data and HTML against a real warehouse, on both backends.
add_executable(test_status_page ${CMAKE_CURRENT_LIST_DIR}/test_status_page.c)
target_link_libraries(test_status_page PRIVATE petl_core PkgConfig::CMOCKA)
foreach(backend sqlite mysql)
  add_test(NAME http.status_page.${backend} COMMAND test_status_page ${backend})
  set_tests_properties(http.status_page.${backend} PROPERTIES LABELS http TIMEOUT 60
                       SKIP_RETURN_CODE 77)
endforeach()

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

# Security suite (label `security`): a secrets scan of the real binary's output, responses
# and run records while a Bsale stand-in echoes the token back in every encoding.
add_executable(test_secrets ${CMAKE_CURRENT_LIST_DIR}/test_secrets.c)
target_link_libraries(test_secrets PRIVATE petl_test_procs PkgConfig::MHD PkgConfig::SQLITE
                      PkgConfig::CMOCKA)
add_test(NAME security.secrets COMMAND test_secrets $<TARGET_FILE:patitas-etl>)
set_tests_properties(security.secrets PROPERTIES LABELS security TIMEOUT 240)

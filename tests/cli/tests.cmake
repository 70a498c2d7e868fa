# Command-line tests: the built patitas-etl in a clean environment and a fresh directory.
foreach(case config_errors_named config_check_redacts precedence env_file invalid_values help
        usage_errors unwired_commands version docs_in_sync)
  add_test(NAME cli.${case}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli_test.sh $<TARGET_FILE:patitas-etl>
            ${PROJECT_SOURCE_DIR} ${PROJECT_VERSION} ${case})
  set_tests_properties(cli.${case} PROPERTIES LABELS cli TIMEOUT 60)
endforeach()

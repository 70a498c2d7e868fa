# Command-line tests: the built patitas-etl in a clean environment and a fresh directory.
foreach(case config_errors_named config_check_redacts precedence env_file invalid_values help
        usage_errors commands_need_config version docs_in_sync schema_docs_in_sync
        report_fits_cells)
  add_test(NAME cli.${case}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli_test.sh $<TARGET_FILE:patitas-etl>
            ${PROJECT_SOURCE_DIR} ${PROJECT_VERSION} ${case})
  set_tests_properties(cli.${case} PROPERTIES LABELS cli TIMEOUT 60)
endforeach()

# Memory checks (tests/CMakeLists.txt): the configuration unit tests and a CLI run.
if(PETL_VG_ENABLED)
  foreach(t test_dotenv test_config test_db_url test_parse test_cli)
    add_test(NAME valgrind.${t} COMMAND ${PETL_VG} $<TARGET_FILE:${t}>)
    set_tests_properties(valgrind.${t} PROPERTIES LABELS valgrind TIMEOUT 120)
  endforeach()
  add_test(NAME valgrind.cli_config_check
    COMMAND env -i PATH=/usr/bin:/bin DATABASE_URL=mysql://u:pw-1234@h/db BSALE_API_TOKEN=tok-1234
            ${PETL_VG} $<TARGET_FILE:patitas-etl> config check --port 9 --log-level debug)
  set_tests_properties(valgrind.cli_config_check PROPERTIES LABELS valgrind TIMEOUT 120)
endif()

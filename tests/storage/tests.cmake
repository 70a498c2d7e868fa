# Storage: the backend suite on MariaDB (test_db runs it on SQLite as a unit
# test) and the single-flight lock between two processes on each backend.
add_executable(storage_lock_contention ${CMAKE_CURRENT_LIST_DIR}/lock_contention.c)
target_link_libraries(storage_lock_contention PRIVATE petl_core)

add_test(NAME storage.db_mysql COMMAND test_db mysql)
add_test(NAME storage.lock_sqlite COMMAND storage_lock_contention sqlite)
add_test(NAME storage.lock_mysql COMMAND storage_lock_contention mysql)
set_tests_properties(storage.db_mysql storage.lock_sqlite storage.lock_mysql PROPERTIES
  LABELS "integration;storage" SKIP_RETURN_CODE 77 TIMEOUT 120)

# The analysts' views, and every query of docs/reportes.md, on MariaDB and on SQLite.
add_test(NAME storage.views_mysql COMMAND test_db_views mysql ${CMAKE_SOURCE_DIR}/docs/reportes.md)
add_test(NAME storage.reportes_sqlite COMMAND test_db_views sqlite
         ${CMAKE_SOURCE_DIR}/docs/reportes.md)
set_tests_properties(storage.views_mysql storage.reportes_sqlite PROPERTIES
  LABELS "integration;storage" SKIP_RETURN_CODE 77 TIMEOUT 120)

# stock_historial, precios_historial and the run's distinct counts on MariaDB (SQLite: unit test).
add_test(NAME storage.history_mysql COMMAND test_db_history mysql)
set_tests_properties(storage.history_mysql PROPERTIES
  LABELS "integration;storage" SKIP_RETURN_CODE 77 TIMEOUT 120)

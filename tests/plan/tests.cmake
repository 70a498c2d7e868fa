# The sync plan end to end on SQLite against the scripted fake Bsale: documents and their lines.
add_executable(test_plan_documents ${CMAKE_CURRENT_LIST_DIR}/test_plan_documents.c)
target_link_libraries(test_plan_documents PRIVATE petl_client_harness PkgConfig::SQLITE)
add_test(NAME plan.documents COMMAND test_plan_documents)
set_tests_properties(plan.documents PROPERTIES LABELS "plan;integration" TIMEOUT 120)

# Variant costs: which are read, 404 and 5xx (tests/plan/test_plan_costs.c).
add_executable(test_plan_costs ${CMAKE_CURRENT_LIST_DIR}/test_plan_costs.c)
target_link_libraries(test_plan_costs PRIVATE petl_client_harness PkgConfig::SQLITE)
add_test(NAME plan.costs COMMAND test_plan_costs)
set_tests_properties(plan.costs PROPERTIES LABELS "plan;integration" TIMEOUT 120)

# The layer map: the real tree passes, and each kind of break is caught.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME layers.tree COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-layers)
  add_test(NAME layers.catches
           COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/catches.sh ${PROJECT_SOURCE_DIR})
  set_tests_properties(layers.tree layers.catches PROPERTIES LABELS layers)
endif()

# Fuzz targets. gcc builds run each target over its corpus (plus deterministic
# variants) as a CTest; -DENABLE_FUZZ=ON with clang also builds libFuzzer binaries
# (fuzz_<name>), e.g. `build/tests/fuzz_dotenv -max_total_time=30 tests/fuzz/corpus/dotenv`.
option(ENABLE_FUZZ "Build libFuzzer targets (clang)" OFF)

set(PETL_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
foreach(target dotenv db_url config http_query secret_mask mapper)
  add_executable(fuzz_${target}_replay ${PETL_FUZZ_DIR}/fuzz_${target}.c ${PETL_FUZZ_DIR}/replay.c)
  target_include_directories(fuzz_${target}_replay PRIVATE ${PETL_FUZZ_DIR})
  target_link_libraries(fuzz_${target}_replay PRIVATE petl_core)
  add_test(NAME fuzz.${target}
    COMMAND fuzz_${target}_replay ${PETL_FUZZ_DIR}/corpus/${target})
  set_tests_properties(fuzz.${target} PROPERTIES LABELS fuzz TIMEOUT 120)

  if(ENABLE_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_${target} ${PETL_FUZZ_DIR}/fuzz_${target}.c)
    target_include_directories(fuzz_${target} PRIVATE ${PETL_FUZZ_DIR})
    target_compile_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${target} PRIVATE petl_core)
  endif()
endforeach()

if(ENABLE_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # Coverage feedback from the parsers themselves, not only from the target files.
  foreach(lib ${PETL_ROLE_LIBS})
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
endif()

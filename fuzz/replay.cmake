# replay.cmake - included by tests/CMakeLists.txt: for every fuzz/fuzz_<name>.c
# an executable replay_<name> (the target + replay_main.c, built like any
# test) and a ctest test fuzz_replay_<name> that runs it over
# fuzz/corpus/<name>/ and fuzz/regression/<name>/.
file(GLOB ZC_FUZZ_TARGETS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${ZC_FUZZ_TARGETS})
  get_filename_component(base ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${base})
  add_executable(replay_${name} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c ${src})
  target_include_directories(replay_${name} PRIVATE ${CMAKE_SOURCE_DIR}/fuzz)
  target_link_libraries(replay_${name} PRIVATE zcopy_app)
  add_test(NAME fuzz_replay_${name}
           COMMAND replay_${name} ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name}
                                  ${CMAKE_SOURCE_DIR}/fuzz/regression/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES TIMEOUT 120)
endforeach()

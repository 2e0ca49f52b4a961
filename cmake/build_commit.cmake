# Writes OUTPUT (a C++ fragment defining ACCORD_VERSION and
# ACCORD_GIT_COMMIT) only when its content changes, so every build reads
# the current commit but recompiles build_info.cc only after a new one.
#   cmake -DSOURCE_DIR=… -DOUTPUT=… -DVERSION=… [-DGIT_COMMIT=…] -P build_commit.cmake
if(NOT GIT_COMMIT)
  execute_process(
    COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
    OUTPUT_VARIABLE GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE git_result)
  if(NOT git_result EQUAL 0 OR NOT GIT_COMMIT)
    set(GIT_COMMIT "unknown")
  endif()
endif()
set(content "#define ACCORD_VERSION \"${VERSION}\"\n#define ACCORD_GIT_COMMIT \"${GIT_COMMIT}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()

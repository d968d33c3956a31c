# build_info.cmake — run at every build (cmake -P) by the ipcsync_build_info target: stamps the
# source tree's commit and dirty flag into OUT (a .cc file) so that bench reports the commit it
# was built from, not whatever the tree holds when it runs. configure_file() rewrites OUT only
# when its content changes, so an unchanged tree recompiles nothing.
# In: SRC (source dir), OUT, TEMPLATE, and BUILD_TYPE, CXX_FLAGS, VERSION, HWLOC_VERSION (set at
# configure).
find_package(Git QUIET)
set(IPCSYNC_GIT_COMMIT "unknown")
set(IPCSYNC_GIT_DIRTY "false")
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SRC} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE _commit RESULT_VARIABLE _rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_rc EQUAL 0 AND _commit)
    set(IPCSYNC_GIT_COMMIT "${_commit}")
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SRC} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE _status RESULT_VARIABLE _rc ERROR_QUIET)
    if(_rc EQUAL 0 AND _status)
      set(IPCSYNC_GIT_DIRTY "true")
    endif()
  endif()
endif()
# The flags go into a C string literal.
string(REPLACE "\\" "\\\\" CXX_FLAGS "${CXX_FLAGS}")
string(REPLACE "\"" "\\\"" CXX_FLAGS "${CXX_FLAGS}")
configure_file(${TEMPLATE} ${OUT} @ONLY)

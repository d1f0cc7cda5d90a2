# The fuzz targets and what each links, shared by fuzz/CMakeLists.txt (the
# libFuzzer build) and tests/fuzz/CMakeLists.txt (the corpus replay in the
# normal build). Target NAME is built from fuzz_NAME.c plus fuzz_util.c; it
# links fuzz_libraries_NAME and compiles fuzz_sources_NAME as well. A target
# whose source file or libraries are not part of the build is left out.
set(STATSDASH_FUZZ_TARGETS
    proto mdp_broker mdwrk mdcli config period mustache render_csv sim_csv
    ga_response yt_report oauth_token table_rows yt_data ga_merge)

set(fuzz_libraries_proto statsdash_common)
set(fuzz_libraries_mdp_broker statsdash_broker)
set(fuzz_libraries_mdwrk statsdash_common)
set(fuzz_libraries_mdcli statsdash_common)
set(fuzz_libraries_config statsdash_common)
set(fuzz_libraries_period statsdash_common)
set(fuzz_libraries_mustache statsdash_reporter)
set(fuzz_libraries_render_csv statsdash_reporter)
set(fuzz_libraries_sim_csv statsdash_common)
set(fuzz_libraries_ga_response statsdash_worker_ga)
set(fuzz_libraries_yt_report statsdash_worker_youtube)
set(fuzz_libraries_oauth_token statsdash_common)
set(fuzz_libraries_table_rows statsdash_proto)
set(fuzz_libraries_yt_data statsdash_worker_youtube)
set(fuzz_libraries_ga_merge statsdash_worker_ga)

# The simulator is one executable, so its CSV reader is compiled in.
set(fuzz_sources_sim_csv ${PROJECT_SOURCE_DIR}/simulator/sim_csv.c)
set(fuzz_includes_sim_csv ${PROJECT_SOURCE_DIR}/simulator)

# Sets out_var to the targets whose source file and libraries exist in this
# build.
function(statsdash_fuzz_available out_var)
  set(available "")
  foreach(name ${STATSDASH_FUZZ_TARGETS})
    set(ok TRUE)
    if(NOT EXISTS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_${name}.c)
      set(ok FALSE)
    endif()
    foreach(library ${fuzz_libraries_${name}})
      if(NOT TARGET ${library})
        set(ok FALSE)
      endif()
    endforeach()
    if(ok)
      list(APPEND available ${name})
    endif()
  endforeach()
  set(${out_var} ${available} PARENT_SCOPE)
endfunction()

# Adds executable TARGET for fuzz target NAME from fuzz_NAME.c, fuzz_util.c
# and the extra sources, linked with its libraries.
function(statsdash_fuzz_executable target name)
  set(fuzz_dir ${PROJECT_SOURCE_DIR}/fuzz)
  add_executable(${target} ${fuzz_dir}/fuzz_${name}.c ${fuzz_dir}/fuzz_util.c
                           ${fuzz_sources_${name}} ${ARGN})
  target_include_directories(${target} PRIVATE ${fuzz_dir} ${fuzz_includes_${name}})
  target_link_libraries(${target} PRIVATE ${fuzz_libraries_${name}} statsdash_common m)
endfunction()

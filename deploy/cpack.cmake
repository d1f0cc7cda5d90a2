# Install rules and the CPack configuration of the statsdash .deb package.
# Included by the top-level CMakeLists.txt after every executable's folder,
# so that if(TARGET ...) below sees them:
#   include(deploy/cpack.cmake)
# Build the package with `cpack -G DEB` in the build folder.
#
# Layout: executables in /usr/bin, systemd units in /lib/systemd/system,
# the example config in /usr/share/doc/statsdash/ and as the conffile
# /etc/statsdash/statsdash.json, report templates (when reporter/templates/
# exists) in /usr/share/statsdash/templates.

set(statsdash_deploy_dir ${CMAKE_CURRENT_LIST_DIR})

# The services. statsdash (cli/) and statsdash-simulator (simulator/) have
# install rules in their own folders. A service whose folder has no target
# yet is left out of the package.
foreach(program statsdash-broker statsdash-worker-ga statsdash-worker-youtube
                statsdash-aggregator statsdash-reporter statsdash-scheduler)
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION bin)
  endif()
endforeach()

file(GLOB statsdash_units ${statsdash_deploy_dir}/systemd/*.service
                          ${statsdash_deploy_dir}/systemd/*.timer)
install(FILES ${statsdash_units} DESTINATION /lib/systemd/system)

install(FILES ${statsdash_deploy_dir}/statsdash.example.json
        DESTINATION /etc/statsdash RENAME statsdash.json)
install(FILES ${statsdash_deploy_dir}/statsdash.example.json
              ${PROJECT_SOURCE_DIR}/docs/deploy.md
              ${PROJECT_SOURCE_DIR}/docs/configuration.md
        DESTINATION share/doc/statsdash)

# NOTE: the check runs when CMake configures, so templates added later need
# a new cmake run before they are packaged.
if(IS_DIRECTORY ${PROJECT_SOURCE_DIR}/reporter/templates)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/reporter/templates/
          DESTINATION share/statsdash/templates)
endif()

set(STATSDASH_PACKAGE_MAINTAINER "Statsdash maintainers <statsdash@example.com>"
    CACHE STRING "Maintainer field of the .deb package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME statsdash)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "comparison reports of Google Analytics and YouTube Analytics")
set(CPACK_PACKAGE_DESCRIPTION
    "Statsdash compares web and video analytics over a period, the previous period and the same period last year, for publishers with many sites and channels. Its services (broker, workers, aggregators, reporters, scheduler) talk over ZeroMQ and can run on several hosts.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${STATSDASH_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# dpkg-shlibdeps computes the library dependencies; adduser is for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${statsdash_deploy_dir}/debian/conffiles
    ${statsdash_deploy_dir}/debian/postinst
    ${statsdash_deploy_dir}/debian/prerm
    ${statsdash_deploy_dir}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)

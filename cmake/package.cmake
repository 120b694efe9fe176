# The operator's files beside the binary and the Debian package.
#   build/fwctl.8.gz    man page, from docs/fwctl.8.md by pandoc
#   build/fwctl.bash    bash completion, `fwctl completion bash` (generated
#                       from the command tree: never out of date)
# `cmake --build build --target package` -> build/fwctl_<version>_amd64.deb
find_program(PANDOC pandoc REQUIRED) # tools/setup.sh installs it

set(FW_MAN ${CMAKE_BINARY_DIR}/fwctl.8.gz)
add_custom_command(OUTPUT ${FW_MAN}
  COMMAND ${PANDOC} --standalone --to man ${CMAKE_SOURCE_DIR}/docs/fwctl.8.md -o ${CMAKE_BINARY_DIR}/fwctl.8
  COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/fwctl.8
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/fwctl.8.md
  COMMENT "man page fwctl.8 (pandoc)")
set(FW_COMPLETION ${CMAKE_BINARY_DIR}/fwctl.bash)
add_custom_command(OUTPUT ${FW_COMPLETION}
  COMMAND $<TARGET_FILE:fwctl> completion bash > ${FW_COMPLETION}
  DEPENDS fwctl
  COMMENT "bash completion fwctl.bash")
add_custom_target(fw_operator_files ALL DEPENDS ${FW_MAN} ${FW_COMPLETION})

install(FILES ${FW_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${FW_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME fwctl)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB FW_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
list(FILTER FW_DOCS EXCLUDE REGEX "fwctl\\.8\\.md$")
install(FILES ${FW_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/rules.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# --- Debian package -------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fwctl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "fwctl maintainers <fwctl@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "stateful eBPF firewall for routers (XDP ingress, TC egress)")
set(CPACK_PACKAGE_DESCRIPTION "fwctl filters, tracks and translates (masquerade, port forwards) at XDP\n\
speed with a WeOS-like JSON ruleset, switched atomically; logs to the journal,\n\
exports Prometheus metrics and traces why a packet was dropped.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # fwctl_<version>_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends: from the binary's libraries
# fwctl carries libbpf 1.4 (linked in, CMakeLists.txt): the package installs
# on Debian 12 without backports. Linked shared (no libbpf.a), shlibdeps says
# libbpf1 >= 1.2 (symbols) where tcx links need 1.4 (README).
if(NOT FW_STATIC_LIBBPF)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libbpf1 (>= 1:1.4)")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd, bash-completion")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus-node-exporter")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_FILE_NAME_ONLY_FOR_SOURCE ON)
include(CPack)

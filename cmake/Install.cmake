# Install.cmake — `cmake --install build --prefix P` and the .deb
# (`cpack -G DEB` in the build directory).
#
#   P/bin/ringscope
#   P/share/ringscope/guest/      kernel.elf, kernel-pv.elf, kernel-hvmpv.elf, one <program>.elf per built-in program
#   P/share/ringscope/guest/host/ host builds of some programs (compute, syscalls, console-write)
#   P/share/ringscope/scenarios/  <name>/scenario.json, expected output, README, program source
#   P/share/ringscope/sdk/        include/ringscope/*.h, the linker script and start-up code `ringscope build` uses
#   P/share/ringscope/labs/       NN-name/lab.json and handout.md
#   P/share/locale/ko/LC_MESSAGES/ringscope.mo   the Korean message catalogue
#   P/share/doc/ringscope/        README.md and docs/
#
# The installed binary finds share/ringscope beside itself through
# /proc/self/exe (core/src/resources.cpp), so the layout above is a
# contract with that file: change both together.
include(GNUInstallDirs)
set(RINGSCOPE_INSTALL_DATA ${CMAKE_INSTALL_DATADIR}/ringscope)

install(TARGETS ringscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Every guest image the build made (scenarios/CMakeLists.txt puts them all
# in one directory); ringscope depends on guest_images, so they exist
# whenever the binary does.
install(DIRECTORY ${PROJECT_BINARY_DIR}/guest/ DESTINATION ${RINGSCOPE_INSTALL_DATA}/guest
        FILES_MATCHING PATTERN "*.elf")
# The host builds of some programs (the efficiency experiment's baseline).
install(DIRECTORY ${PROJECT_BINARY_DIR}/guest/host/ DESTINATION ${RINGSCOPE_INSTALL_DATA}/guest/host
        USE_SOURCE_PERMISSIONS)

# The manifests and what they name, without the kernel's source and the
# SDK (installed on their own below) or build files.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/ DESTINATION ${RINGSCOPE_INSTALL_DATA}/scenarios
        PATTERN "kernel" EXCLUDE
        PATTERN "user" EXCLUDE
        PATTERN "CMakeLists.txt" EXCLUDE)

# The user SDK: exactly the files sdk_flags.cmake lists, and the headers.
include(${PROJECT_SOURCE_DIR}/scenarios/user/sdk_flags.cmake)
set(RINGSCOPE_SDK_FILES ${RINGSCOPE_USER_SDK_SOURCES} ${RINGSCOPE_USER_LINKER_SCRIPT})
list(TRANSFORM RINGSCOPE_SDK_FILES PREPEND ${PROJECT_SOURCE_DIR}/scenarios/user/)
install(FILES ${RINGSCOPE_SDK_FILES} DESTINATION ${RINGSCOPE_INSTALL_DATA}/sdk)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/scenarios/user/include DESTINATION ${RINGSCOPE_INSTALL_DATA}/sdk)

# The labs as data (the checker is compiled into the binary), each with its
# handout.md and Korean handout.ko.md.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/labs/ DESTINATION ${RINGSCOPE_INSTALL_DATA}/labs
        PATTERN "checker" EXCLUDE
        PATTERN "CMakeLists.txt" EXCLUDE)

# The compiled message catalogues (po/CMakeLists.txt), where gettext looks:
# P/share/locale/<lang>/LC_MESSAGES/ringscope.mo.
install(DIRECTORY ${PROJECT_BINARY_DIR}/locale/ DESTINATION ${CMAKE_INSTALL_LOCALEDIR})

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
# README.ko.md: the Korean README (docs/ko/ holds the Korean pages).
install(FILES ${PROJECT_SOURCE_DIR}/README.ko.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- the .deb -----------------------------------------------------------------
# `cpack -G DEB` in the build directory makes ringscope_<version>_amd64.deb;
# `apt install ./ringscope_*.deb` installs it and the Debian libraries it
# links (found by dpkg-shlibdeps from the binary itself).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ringscope)
set(CPACK_PACKAGE_VENDOR "ringscope")
set(CPACK_PACKAGE_CONTACT "ringscope maintainers <ringscope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "educational x86 ring / VMX simulator: see the rings, traps and VM exits of a real guest")
set(CPACK_PACKAGE_DESCRIPTION
    "A small VMM on Linux's KVM API (and a Unicorn emulation mode for machines without KVM) boots a teaching kernel and records every VM exit, trap and ring transition into one trace format, with a viewer and classroom labs.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the binary only; guest images are installed as files and keep their symbols
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Not linked, but used at run time: gcc builds students' programs
# (`ringscope build`, `lab check`); the viewer's font; Mesa for its GL
# context (loaded through libGL, which shlibdeps cannot see).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "gcc")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "fonts-dejavu-core, libgl1-mesa-dri")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qemu-system-x86, xvfb")
include(CPack)

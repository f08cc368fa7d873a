# Warnings for the host-side C++ (the guest has its own flags in scenarios/).
# CI builds with RINGSCOPE_WERROR=ON (.ci/run): a new warning fails the
# submission. It is off by default so that a newer compiler's new warnings
# do not stop a student's build.
option(RINGSCOPE_WERROR "Treat warnings in ringscope's own C++ as errors" OFF)

function(ringscope_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  if(RINGSCOPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Warnings for the host-side C++ (the guest has its own flags in scenarios/).
function(ringscope_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
endfunction()

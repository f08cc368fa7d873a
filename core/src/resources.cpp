// resources.cpp — the installed layout beside the executable, else the build
// tree (resources.h). The relative path from bin/ to share/ringscope and the
// build-tree paths are CMake's (core/CMakeLists.txt); nothing else here
// knows where anything was built or installed.
#include "ringscope/resources.h"

#include <unistd.h>

#include <system_error>

namespace ringscope {

namespace fs = std::filesystem;

namespace {

fs::path self_exe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}

}  // namespace

ResourceDirs resolve_resource_dirs(const fs::path& exe) {
  ResourceDirs d;
  std::error_code ec;
  if (!exe.empty()) {
    // RINGSCOPE_INSTALL_DATA_FROM_BIN is e.g. "../share/ringscope".
    fs::path root = (exe.parent_path() / RINGSCOPE_INSTALL_DATA_FROM_BIN).lexically_normal();
    // The scenarios are what every verb needs; their directory marks an
    // installed data tree.
    if (fs::is_directory(root / "scenarios", ec)) {
      d.installed = true;
      d.root = root;
      d.scenarios = root / "scenarios";
      d.guest = root / "guest";
      d.sdk = root / "sdk";
      d.labs = root / "labs";
      d.locale = root.parent_path() / "locale";
      return d;
    }
  }
  d.root = RINGSCOPE_BUILD_SOURCE_DIR;
  d.scenarios = fs::path(RINGSCOPE_BUILD_SOURCE_DIR) / "scenarios";
  d.guest = fs::path(RINGSCOPE_BUILD_BINARY_DIR) / "guest";
  d.sdk = fs::path(RINGSCOPE_BUILD_SOURCE_DIR) / "scenarios" / "user";
  d.labs = fs::path(RINGSCOPE_BUILD_SOURCE_DIR) / "labs";
  d.locale = fs::path(RINGSCOPE_BUILD_BINARY_DIR) / "locale";
  return d;
}

const ResourceDirs& resource_dirs() {
  static const ResourceDirs dirs = resolve_resource_dirs(self_exe());
  return dirs;
}

}  // namespace ringscope

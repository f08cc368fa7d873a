// test_guest_abi.cpp — the guest ABI is written once.
//
// scenarios/user/include/ringscope/guest_abi.h holds the probe port and the
// hypercall numbers in plain C; the VMM's constants are built from its macros
// (with static_asserts in hypercalls.h and devices/probe.h). What could still
// diverge is a guest source that restates a number instead of including the
// header, or a doc table that says another number: both are checked here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "ringscope/devices/probe.h"
#include "ringscope/hypercalls.h"

namespace ringscope {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = RINGSCOPE_SOURCE_DIR;
const fs::path kAbi = kSource / "scenarios/user/include/ringscope/guest_abi.h";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The macro names a file #defines.
std::set<std::string> defines(const std::string& text) {
  std::set<std::string> out;
  static const std::regex kDefine(R"(^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*))");
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, kDefine)) out.insert(m[1]);
  return out;
}

TEST(GuestAbi, TheVmmsConstantsAreTheHeaders) {
  EXPECT_EQ(kHypercallPort, HC_PORT);
  EXPECT_EQ(kProbeBase, PROBE_PORT);
  EXPECT_EQ(kProbeBase + ProbeDevice::kExit, PROBE_EXIT_PORT);
  EXPECT_EQ(kProbeMagic, static_cast<uint32_t>(PROBE_MAGIC));
  EXPECT_EQ(static_cast<uint64_t>(Hypercall::TimeNs), static_cast<uint64_t>(HC_TIME_NS));
  EXPECT_EQ(kHypercallAbiVersion, static_cast<uint64_t>(HC_ABI_VERSION));
  // The probe's and the doorbell's ports do not overlap.
  EXPECT_LE(PROBE_PORT + PROBE_PORTS, HC_PORT);
}

// No guest source defines an ABI number a second time (it would silently
// win over, or drift from, the header the VMM reads), and none writes the
// probe or doorbell port as a literal in an in/out.
TEST(GuestAbi, NoGuestSourceRestatesANumber) {
  const std::set<std::string> abi = defines(slurp(kAbi));
  ASSERT_TRUE(abi.count("HC_TIME_NS") && abi.count("PROBE_PORT") && abi.count("MARK_BEGIN")) << kAbi;
  static const std::regex kLiteralPort(R"(\b(in|out)[bwl]?\s*\(\s*0x(f0|f4|f8)\b)");
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kSource / "scenarios")) {
    const fs::path& p = entry.path();
    const std::string ext = p.extension().string();
    if (!entry.is_regular_file() || (ext != ".c" && ext != ".h" && ext != ".S") || fs::equivalent(p, kAbi)) continue;
    ++files;
    const std::string text = slurp(p);
    for (const auto& name : defines(text))
      EXPECT_FALSE(abi.count(name)) << p << " defines " << name << " again; include ringscope/guest_abi.h instead";
    EXPECT_FALSE(std::regex_search(text, kLiteralPort))
        << p << " writes the probe or hypercall port as a number; use PROBE_PORT, PROBE_EXIT_PORT or HC_PORT";
  }
  EXPECT_GT(files, 20u) << "the guest sources were not found under " << kSource / "scenarios";
  // The teaching kernel gets the numbers from the header.
  EXPECT_NE(slurp(kSource / "scenarios/kernel/defs.h").find("ringscope/guest_abi.h"), std::string::npos);
}

// docs/hypercalls.md's table ("| nr | `name` | ...") says what the header does.
TEST(GuestAbi, TheHypercallDocTableMatchesTheTable) {
  const std::string doc = slurp(kSource / "docs/hypercalls.md");
  static const std::regex kRow(R"(\n\| (\d+) \| `([a-z_]+)` \|)");
  std::map<uint64_t, std::string> rows;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), kRow); it != std::sregex_iterator(); ++it)
    rows[std::stoull((*it)[1])] = (*it)[2];
  ASSERT_EQ(rows.size(), hypercall_table().size()) << "docs/hypercalls.md lists another number of hypercalls";
  for (const HypercallInfo& h : hypercall_table()) {
    const auto n = static_cast<uint64_t>(h.number);
    ASSERT_TRUE(rows.count(n)) << "docs/hypercalls.md has no row for hypercall " << n;
    EXPECT_EQ(rows[n], h.name) << "hypercall " << n;
  }
}

}  // namespace
}  // namespace ringscope

// VMX profiles: the presets, the JSON format, and the errors a user sees.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ringscope/vmx/model.h"
#include "ringscope/vmx/profile.h"

namespace ringscope::vmx {
namespace {

TEST(VmxProfile, PresetsExistAndNameThemselves) {
  std::vector<std::string> names;
  for (const auto& info : presets()) {
    auto p = preset(info.name);
    ASSERT_TRUE(p.ok()) << info.name;
    EXPECT_EQ(p->name, info.name);
    EXPECT_FALSE(p->description.empty());
    names.emplace_back(info.name);
  }
  for (const char* want : {"kvm-default", "no-ept", "trap-everything", "io-bitmap-uart-only"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  auto bad = preset("vt-d");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::NoInput);
  EXPECT_NE(bad.error().message.find("kvm-default"), std::string::npos) << "lists the presets";
}

TEST(VmxProfile, JsonOverridesItsBasePreset) {
  auto p = parse_profile(R"({"base": "no-ept", "name": "mine", "io_bitmap": ["0x3f8-0x3fa", 244],
                              "exception_bitmap": ["#PF", "GP", 6], "hlt_exiting": false,
                              "msr_write_passthrough": ["0xc0000082"]})",
                         "mine.json");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, "mine");
  EXPECT_FALSE(p->ept) << "from the base";
  EXPECT_EQ(p->io, IoExiting::Bitmap) << "giving a bitmap turns it on";
  EXPECT_TRUE(p->io_bitmap.test(0x3f8) && p->io_bitmap.test(0x3fa) && p->io_bitmap.test(0xf4));
  EXPECT_FALSE(p->io_bitmap.test(0x3fb));
  EXPECT_EQ(p->exception_bitmap, (1u << 14) | (1u << 13) | (1u << 6));
  EXPECT_FALSE(p->hlt_exiting);
  GuestAction w;
  w.kind = ActionKind::Wrmsr;
  w.msr = 0xc0000082;
  EXPECT_FALSE(decide(*p, w).exits) << "LSTAR passed through by the file";
}

TEST(VmxProfile, RoundTripsThroughJson) {
  for (const auto& info : presets()) {
    Profile a = preset(info.name).value();
    auto b = parse_profile(profile_to_json(a), "round-trip");
    ASSERT_TRUE(b.ok()) << info.name << ": " << b.error().message;
    EXPECT_EQ(a.name, b->name);
    EXPECT_EQ(a.io, b->io);
    EXPECT_EQ(a.io_bitmap, b->io_bitmap);
    EXPECT_EQ(a.hlt_exiting, b->hlt_exiting);
    EXPECT_EQ(a.cr3_load_exiting, b->cr3_load_exiting);
    EXPECT_EQ(a.msr_read_passthrough, b->msr_read_passthrough);
    EXPECT_EQ(a.msr_write_passthrough, b->msr_write_passthrough);
    EXPECT_EQ(a.cr0_guest_host_mask, b->cr0_guest_host_mask);
    EXPECT_EQ(a.cr4_guest_host_mask, b->cr4_guest_host_mask);
    EXPECT_EQ(a.exception_bitmap, b->exception_bitmap);
    EXPECT_EQ(a.ept, b->ept);
  }
}

TEST(VmxProfile, MistakesAreBadDataWithTheKeyNamed) {
  struct Case {
    const char* json;
    const char* mentions;
  } cases[] = {
      {"[1,2]", "not a JSON object"},
      {"{\"hlt_exitting\": true}", "hlt_exitting"},
      {"{\"ept\": 1}", "\"ept\""},
      {"{\"io_exiting\": \"sometimes\"}", "io_exiting"},
      {"{\"io_bitmap\": [\"0x400-0x3f8\"]}", "io_bitmap"},
      {"{\"io_bitmap\": [70000]}", "io_bitmap"},
      {"{\"exception_bitmap\": [\"#XX\"]}", "exception_bitmap"},
      {"{\"base\": \"nope\"}", "nope"},
      {"{\"msr_read_passthrough\": [\"0-0xffffffff\"]}", "65536"},
  };
  for (const auto& c : cases) {
    auto p = parse_profile(c.json, "t.json");
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_EQ(p.error().kind, ErrorKind::BadData) << c.json;
    EXPECT_NE(p.error().message.find(c.mentions), std::string::npos) << p.error().message;
  }
}

TEST(VmxProfile, LoadsPresetsByNameAndFilesByPath) {
  EXPECT_EQ(load_profile("no-ept")->name, "no-ept");
  auto dir = std::filesystem::temp_directory_path() / "ringscope-vmx-profile-test";
  std::filesystem::create_directories(dir);
  auto file = dir / "p.json";
  std::ofstream(file) << R"({"base": "kvm-default", "ept": false})";
  auto p = load_profile(file.string());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->ept);
  EXPECT_EQ(p->name, file.string());
  auto missing = load_profile((dir / "missing.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NoInput);
  EXPECT_EQ(load_profile("no-such-preset").error().kind, ErrorKind::NoInput);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringscope::vmx

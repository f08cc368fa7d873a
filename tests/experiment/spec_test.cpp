// spec_test.cpp — the experiment spec parser: the built-ins parse; a bad
// spec is refused with the key that is wrong named in the message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "spec.h"

namespace ringscope::experiment {
namespace {

using json = nlohmann::json;

json good() {
  return json::parse(R"({
    "name": "t",
    "workloads": [{"scenario": "console-write", "param": "bytes", "values": [256, 64], "kib_per_unit": 0.0009765625}],
    "modes": ["full-virt", "emulation:virtio"],
    "repeat": 1,
    "measures": [
      {"id": "exits_per_kib", "query": {"kind": "vm_exit", "between": "{phase}"}, "per": "kib"},
      {"id": "ns", "query": {"measure": "span_ns", "between": "{phase}"}, "divide_by": {"kind": "output"}}
    ],
    "fit": ["exits_per_kib"]
  })");
}

Result<Spec> parse(const json& j) { return parse_spec(j.dump(), "t.json"); }

TEST(ExperimentSpec, AGoodSpecParses) {
  auto s = parse(good());
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->workloads.size(), 1u);
  EXPECT_EQ(s->workloads[0].id, "console-write");                       // the scenario's name by default
  EXPECT_EQ(s->workloads[0].values, (std::vector<uint64_t>{64, 256}));  // sorted
  EXPECT_EQ(s->workloads[0].phase, "console-write: {bytes} bytes");     // the marker that names the param
  ASSERT_EQ(s->modes.size(), 2u);
  EXPECT_EQ(s->modes[1].mode, "emulation");
  EXPECT_EQ(s->modes[1].devices, "virtio");
  EventFilter vm_exits;
  vm_exits.add_kind(EventKind::VmExit);
  EXPECT_EQ(s->measures[0].query.filter.kinds, vm_exits.kinds);
  EXPECT_TRUE(s->measures[1].divide_by.has_value());
  auto label = phase_label(s->workloads[0], 4096);
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(label.value(), "console-write: 4096 bytes");
}

TEST(ExperimentSpec, TheBuiltInsParse) {
  ASSERT_GE(builtin_experiments().size(), 2u);
  for (const auto& b : builtin_experiments()) {
    auto s = load_spec(std::string(b.name));
    ASSERT_TRUE(s.ok()) << b.name << ": " << s.error().message;
    EXPECT_EQ(s->name, b.name);
    EXPECT_FALSE(s->claim.empty()) << b.name << ": the report's paragraph on the seed's claim";
    EXPECT_FALSE(s->measured.empty()) << b.name;
  }
  auto pv = load_spec("pv-io");
  ASSERT_TRUE(pv.ok());
  for (const auto& w : pv->workloads)  // three orders of magnitude
    EXPECT_GE(w.values.back(), w.values.front() * 1000) << w.id;
  EXPECT_EQ(pv->fallback_modes.at("paravirt").devices, "virtio") << "pv-io runs on a host without KVM too";
  auto disk = phase_label(pv->workloads[1], 1024);
  ASSERT_TRUE(disk.ok());
  EXPECT_EQ(disk.value(), "disk-io: 2048 sectors");
}

TEST(ExperimentSpec, EfficiencyAndNanobenchAreBuiltIn) {
  auto e = load_spec("efficiency");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->baseline, "native");
  EXPECT_EQ(e->modes.front().mode, kNativeMode) << "the baseline runs first in each repeat";
  std::set<std::string> scenarios;
  for (const auto& w : e->workloads) scenarios.insert(w.scenario);
  EXPECT_EQ(scenarios, (std::set<std::string>{"compute", "syscalls", "console-write"}))
      << "compute, syscall-heavy and I/O-heavy work";
  bool relative = false;
  for (const auto& m : e->measures) relative = relative || m.relative_to == "ns_per_unit";
  EXPECT_TRUE(relative) << "efficiency is native time / guest time";
  EXPECT_NE(e->claim.find("80 %"), std::string::npos) << "the seed's claim, in its numbers";

  auto n = load_spec("nanobench");
  ASSERT_TRUE(n.ok()) << n.error().message;
  std::vector<std::string> rows;
  for (const auto& w : n->workloads) {
    EXPECT_EQ(w.scenario, "nanobench");
    rows.push_back(w.phase.substr(0, w.phase.find(':')));
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"syscall", "in", "cr8wr", "call/ret", "pgfault", "divzero", "ptemod"}));
  std::set<std::string> modes;
  for (const auto& m : n->modes) modes.insert(m.mode);
  EXPECT_EQ(modes, (std::set<std::string>{"full-virt", "paravirt", "emulation", "bt"}));
  for (const auto& m : n->measures) EXPECT_FALSE(m.phase_figure.empty()) << m.id << ": counted as compare counts it";
}

TEST(ExperimentSpec, CloudRunsTheFourWaysOfTheAwsStory) {
  auto cloud = load_spec("cloud");
  ASSERT_TRUE(cloud.ok()) << cloud.error().message;
  std::vector<std::string> names;
  for (const auto& m : cloud->modes) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"paravirt", "full-virt", "hvm-pv", "hvm-pv+offload"}));
  EXPECT_EQ(cloud->modes[3].mode, "hvm-pv");
  EXPECT_EQ(cloud->modes[3].io, "offload");
  EXPECT_TRUE(cloud->modes[2].io.empty());
  EXPECT_EQ(cloud->fallback_modes.at("paravirt").devices, "virtio") << "the fallback other experiments use";
  // Where the exits went: to the vCPU thread, to the device thread.
  bool vcpu = false, device = false;
  for (const auto& m : cloud->measures) {
    vcpu = vcpu || (m.query.filter.handled_by == HandledBy::Vmm);
    device = device || (m.query.filter.source == Source::DeviceThread);
  }
  EXPECT_TRUE(vcpu && device);
  for (const char* bad : {"hvm-pv+fast", "full-virt+offload", "hvm-pv:legacy+offload+x"}) {
    json j = json::parse(std::string(cloud->source));
    j["modes"] = {bad};
    auto s = parse_spec(j.dump(), "cloud.json");
    EXPECT_FALSE(s.ok()) << bad;
  }
}

struct BadCase {
  const char* what;
  std::function<void(json&)> edit;
  const char* key;  // must appear in the message
};

TEST(ExperimentSpec, BadSpecsAreRefusedWithTheKeyNamed) {
  const std::vector<BadCase> cases = {
      {"unknown top-level key", [](json& j) { j["repet"] = 3; }, "spec.repet"},
      {"no name", [](json& j) { j.erase("name"); }, "spec.name"},
      {"repeat 0", [](json& j) { j["repeat"] = 0; }, "spec.repeat"},
      {"repeat not a number", [](json& j) { j["repeat"] = "3"; }, "spec.repeat"},
      {"bad level", [](json& j) { j["level"] = "some"; }, "spec.level"},
      {"no modes", [](json& j) { j["modes"] = json::array(); }, "spec.modes"},
      {"unknown mode", [](json& j) { j["modes"][0] = "fullvirt"; }, "spec.modes[0]"},
      {"bad device set", [](json& j) { j["modes"][1] = "emulation:pci"; }, "spec.modes[1]"},
      {"mode twice", [](json& j) { j["modes"][1] = "full-virt"; }, "spec.modes[1]"},
      {"fallback for a mode not in modes",
       [](json& j) {
         j["fallback_modes"] = {{"paravirt", "emulation"}};
       },
       "spec.fallback_modes.paravirt"},
      {"fallback to a listed mode",
       [](json& j) {
         j["fallback_modes"] = {{"full-virt", "emulation:virtio"}};
       },
       "spec.fallback_modes.full-virt"},
      {"fallback to no mode",
       [](json& j) {
         j["fallback_modes"] = {{"full-virt", "emul"}};
       },
       "spec.fallback_modes.full-virt"},
      {"no workloads", [](json& j) { j.erase("workloads"); }, "spec.workloads"},
      {"unknown scenario", [](json& j) { j["workloads"][0]["scenario"] = "no-such"; }, "spec.workloads[0].scenario"},
      {"unknown param", [](json& j) { j["workloads"][0]["param"] = "byts"; }, "spec.workloads[0].param"},
      {"value 0", [](json& j) { j["workloads"][0]["values"][0] = 0; }, "spec.workloads[0].values"},
      {"negative value", [](json& j) { j["workloads"][0]["values"][0] = -4; }, "spec.workloads[0].values"},
      {"unknown workload key", [](json& j) { j["workloads"][0]["vals"] = 1; }, "spec.workloads[0].vals"},
      {"phase not declared", [](json& j) { j["workloads"][0]["phase"] = "nope"; }, "spec.workloads[0].phase"},
      {"no measures", [](json& j) { j["measures"] = json::array(); }, "spec.measures"},
      {"measure without query", [](json& j) { j["measures"][0].erase("query"); }, "spec.measures[0].query"},
      {"query of an unknown kind", [](json& j) { j["measures"][0]["query"]["kind"] = "vmexit"; },
       "spec.measures[0].query"},
      {"query with an unknown key", [](json& j) { j["measures"][0]["query"]["knd"] = "trap"; },
       "spec.measures[0].query"},
      {"query with a run", [](json& j) { j["measures"][0]["query"]["run"] = "x"; }, "spec.measures[0].query"},
      {"bad measure", [](json& j) { j["measures"][1]["query"]["measure"] = "mean"; }, "spec.measures[1].query"},
      {"bad divide_by", [](json& j) { j["measures"][1]["divide_by"]["cpl"] = 7; }, "spec.measures[1].divide_by"},
      {"bad per", [](json& j) { j["measures"][0]["per"] = "byte"; }, "spec.measures[0].per"},
      {"kib without kib_per_unit", [](json& j) { j["workloads"][0].erase("kib_per_unit"); }, "spec.measures[0].per"},
      {"scale 0", [](json& j) { j["measures"][0]["scale"] = 0; }, "spec.measures[0].scale"},
      {"bad id", [](json& j) { j["measures"][0]["id"] = "a/b"; }, "spec.measures[0].id"},
      {"id twice", [](json& j) { j["measures"][1]["id"] = "exits_per_kib"; }, "spec.measures[1].id"},
      {"fit of no measure", [](json& j) { j["fit"] = {"nope"}; }, "spec.fit"},
      {"query and phase_figure", [](json& j) { j["measures"][0]["phase_figure"] = "ns"; }, "spec.measures[0].query"},
      {"unknown phase figure",
       [](json& j) {
         j["measures"][0].erase("query");
         j["measures"][0]["phase_figure"] = "exit";
       },
       "spec.measures[0].phase_figure"},
      {"relative_to without a baseline",
       [](json& j) {
         j["measures"][2] = {{"id", "eff"}, {"relative_to", "ns"}};
       },
       "spec.measures[2].relative_to"},
      {"relative_to of no measure",
       [](json& j) {
         j["baseline"] = "full-virt";
         j["measures"][2] = {{"id", "eff"}, {"relative_to", "nope"}};
       },
       "spec.measures[2].relative_to"},
      {"relative_to with per",
       [](json& j) {
         j["baseline"] = "full-virt";
         j["measures"][2] = {{"id", "eff"}, {"relative_to", "ns"}, {"per", "unit"}};
       },
       "spec.measures[2].per"},
      {"baseline not a mode", [](json& j) { j["baseline"] = "native"; }, "spec.baseline"},
  };
  for (const auto& c : cases) {
    json j = good();
    c.edit(j);
    auto s = parse(j);
    ASSERT_FALSE(s.ok()) << c.what << ": accepted";
    EXPECT_EQ(s.error().kind, ErrorKind::BadData) << c.what;
    EXPECT_NE(s.error().message.find(c.key), std::string::npos)
        << c.what << ": the message does not name " << c.key << ": " << s.error().message;
    EXPECT_NE(s.error().message.find("t.json"), std::string::npos) << c.what << ": the file is not named";
  }
}

TEST(ExperimentSpec, NotJsonAndUnknownNamesAreClearErrors) {
  auto s = parse_spec("{\"name\": ", "t.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not valid JSON"), std::string::npos);
  auto n = load_spec("pv-iox");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::NoInput);
  EXPECT_NE(n.error().message.find("pv-io"), std::string::npos) << "lists the built-ins: " << n.error().message;
}

}  // namespace
}  // namespace ringscope::experiment

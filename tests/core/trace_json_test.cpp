// The JSON Lines form: exactly the keys docs/trace-format.md names, in order, with
// numbers as numbers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "ringscope/exit_reasons.h"
#include "trace_test_util.h"

namespace ringscope {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> keys_of(const Json& j) {
  std::vector<std::string> out;
  for (const auto& [k, v] : j.items()) out.push_back(k);
  return out;
}

Json json_of(const Event& e) { return Json::parse(event_to_json(e)); }

const std::vector<std::string> kCommon = {"seq", "time_ns", "vcpu", "kind", "source"};

std::vector<std::string> with_common(std::vector<std::string> rest) {
  std::vector<std::string> all = kCommon;
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

TEST(TraceJson, KeysPerKind) {
  testing::EventFactory f;
  auto keys = [&](EventKind k, auto tweak) {
    Event e = f.full(k);
    tweak(e);
    return keys_of(json_of(e));
  };
  auto none = [](Event&) {};

  EXPECT_EQ(keys(EventKind::VmExit, [](Event& e) { e.reason = 12; }),
            with_common({"reason", "reason_name", "handled_by", "rip", "cpl", "duration_ns"}));
  EXPECT_EQ(keys(EventKind::VmExit, [](Event& e) { e.reason = 30; }),
            with_common({"reason", "reason_name", "handled_by", "rip", "cpl", "duration_ns", "port", "size",
                         "direction", "value", "count"}));
  EXPECT_EQ(keys(EventKind::VmExit, [](Event& e) { e.reason = 48; }),
            with_common({"reason", "reason_name", "handled_by", "rip", "cpl", "duration_ns", "gpa", "length",
                         "direction", "value"}));
  EXPECT_EQ(
      keys(EventKind::Trap, [](Event& e) { e.vector = 14; }),
      with_common({"vector", "vector_name", "error_code", "cr2", "from_cpl", "to_cpl", "cause", "rip", "rip_to"}));
  EXPECT_EQ(keys(EventKind::Trap,
                 [](Event& e) {
                   e.vector = 32;
                   e.has_error_code = false;
                 }),
            with_common({"vector", "vector_name", "from_cpl", "to_cpl", "cause", "rip", "rip_to"}));
  EXPECT_EQ(keys(EventKind::TrapReturn, none), with_common({"from_cpl", "to_cpl", "cause", "rip", "rip_to"}));
  EXPECT_EQ(keys(EventKind::Hypercall, none), with_common({"number", "args", "result", "transport", "rip"}));
  EXPECT_EQ(keys(EventKind::Device, none),
            with_common({"device", "register", "direction", "value", "size", "count", "duration_ns"}));
  // irq_inject: its path (`via`, schema 5) decides the keys that follow.
  auto irq = [&](IrqVia via, std::string_view name) {
    return keys(EventKind::IrqInject, [&](Event& e) {
      e.via = via;
      e.name = name;
    });
  };
  EXPECT_EQ(irq(IrqVia::None, {}), with_common({"vector"}));
  EXPECT_EQ(irq(IrqVia::KvmInterrupt, {}), with_common({"via", "vector"}));
  EXPECT_EQ(irq(IrqVia::Irqfd, {}), with_common({"via", "irq", "device"}));
  EXPECT_EQ(irq(IrqVia::Ipi, {}), with_common({"via", "vector", "from_vcpu", "delivery", "duration_ns"}));
  // A schema-4 trace kept the path in `name`: the same keys.
  EXPECT_EQ(irq(IrqVia::None, "irqfd"), with_common({"via", "irq", "device"}));
  EXPECT_EQ(irq(IrqVia::None, "KVM_INTERRUPT"), with_common({"via", "vector"}));
  EXPECT_EQ(keys(EventKind::ModeChange, none),
            with_common({"cr0", "cr4", "efer", "prev_cr0", "prev_cr4", "prev_efer"}));
  EXPECT_EQ(keys(EventKind::Step, none), with_common({"rip", "cpl", "bytes"}));
  EXPECT_EQ(keys(EventKind::Counter, none), with_common({"name", "value"}));
  EXPECT_EQ(keys(EventKind::Output, none), with_common({"text"}));
  EXPECT_EQ(keys(EventKind::Marker, none), with_common({"name", "phase", "value"}));
  EXPECT_EQ(keys(EventKind::RunEnd, [](Event& e) { e.regs = nullptr; }), with_common({"reason", "message", "value"}));
  EXPECT_EQ(keys(EventKind::RunEnd, none), with_common({"reason", "message", "value", "regs"}));
}

TEST(TraceJson, ValuesOfAnIoExit) {
  Event e;
  e.seq = 7;
  e.time_ns = 123456;
  e.vcpu = 1;
  e.kind = EventKind::VmExit;
  e.source = Source::KvmExit;
  e.reason = 30;
  e.handled_by = HandledBy::Vmm;
  e.rip = 0xffffffff81000000ull;
  e.port = 0x3f8;
  e.size = 1;
  e.direction = Direction::Out;
  e.value = 'h';
  e.duration_ns = 2500;
  const Json j = json_of(e);
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["time_ns"], 123456);
  EXPECT_EQ(j["vcpu"], 1);
  EXPECT_EQ(j["kind"], "vm_exit");
  EXPECT_EQ(j["source"], "kvm-exit");
  EXPECT_EQ(j["reason"], 30);
  EXPECT_EQ(j["reason_name"], "io_instruction");
  EXPECT_EQ(j["handled_by"], "vmm");
  EXPECT_TRUE(j["rip"].is_number_unsigned());
  EXPECT_EQ(j["rip"].get<uint64_t>(), 0xffffffff81000000ull);
  EXPECT_EQ(j["port"], 0x3f8);
  EXPECT_EQ(j["direction"], "out");
  EXPECT_EQ(j["value"], 'h');
  EXPECT_EQ(j["duration_ns"], 2500);
  EXPECT_EQ(event_to_json(e).find('\n'), std::string::npos) << "one line per event";
}

TEST(TraceJson, OtherKindsValues) {
  Event trap;
  trap.kind = EventKind::Trap;
  trap.vector = 14;
  trap.has_error_code = true;
  trap.error_code = 6;
  trap.cr2 = 0x1000;
  trap.cause = TrapCause::Exception;
  trap.from_cpl = 3;
  auto j = json_of(trap);
  EXPECT_EQ(j["vector_name"], "#PF page fault");
  EXPECT_EQ(j["cause"], "exception");
  EXPECT_EQ(j["from_cpl"], 3);

  Event step;
  step.kind = EventKind::Step;
  step.text = std::string_view("\x0f\x05", 2);
  EXPECT_EQ(json_of(step)["bytes"], "0f05");

  Event hc;
  hc.kind = EventKind::Hypercall;
  hc.args = {1, 2, 3, 4};
  hc.transport = Transport::Vmcall;
  j = json_of(hc);
  EXPECT_EQ(j["args"], Json::array({1, 2, 3, 4}));
  EXPECT_EQ(j["transport"], "vmcall");

  Event end;
  end.kind = EventKind::RunEnd;
  end.end_reason = RunEndReason::TripleFault;
  end.text = "boom";
  GuestRegs regs{};
  regs.rip = 0x1234;
  end.regs = &regs;
  j = json_of(end);
  EXPECT_EQ(j["reason"], "triple_fault");
  EXPECT_EQ(j["message"], "boom");
  EXPECT_EQ(j["regs"]["rip"], 0x1234);

  Event out;
  out.kind = EventKind::Output;
  out.text = std::string_view("ok\xff\n", 4);  // not UTF-8: must not throw
  EXPECT_NO_THROW(json_of(out));

  Event marker;
  marker.kind = EventKind::Marker;
  marker.name = "write 4 KiB";
  marker.phase = MarkerPhase::Begin;
  j = json_of(marker);
  EXPECT_EQ(j["name"], "write 4 KiB");
  EXPECT_EQ(j["phase"], "begin");
}

TEST(TraceJson, Header) {
  const Json j = Json::parse(header_to_json(testing::sample_header()));
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"format_version", "schema_version", "scenario", "mode", "level",
                                                  "params", "host_kernel", "kvm_flavour", "cpu_model", "tool_version",
                                                  "start_unix_ns", "start_mono_ns", "vcpus", "disk_cache"}));
  EXPECT_EQ(j["scenario"], "syscalls");
  EXPECT_EQ(j["vcpus"], 2);
}

}  // namespace
}  // namespace ringscope

namespace ringscope {
namespace {

TEST(TraceJson, ModelledMsrCrAndVmcallExitsCarryTheirQualification) {
  using Json = nlohmann::ordered_json;
  Event e;
  e.kind = EventKind::VmExit;
  e.source = Source::VmxModel;
  e.reason = exit_reason::kWrmsr;
  e.number = 0xc0000082;  // IA32_LSTAR
  e.direction = Direction::Write;
  e.value = 0x100200;
  auto j = Json::parse(event_to_json(e));
  EXPECT_EQ(j["msr"], 0xc0000082u);
  EXPECT_EQ(j["direction"], "write");
  EXPECT_EQ(j["value"], 0x100200u);
  e.reason = exit_reason::kCrAccess;
  e.reg = "cr3";
  j = Json::parse(event_to_json(e));
  EXPECT_EQ(j["register"], "cr3");
  EXPECT_FALSE(j.contains("msr"));
  e.reason = exit_reason::kVmcall;
  e.number = 1;
  j = Json::parse(event_to_json(e));
  EXPECT_EQ(j["number"], 1u);
}

}  // namespace
}  // namespace ringscope

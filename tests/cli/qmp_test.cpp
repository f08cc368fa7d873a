// qmp_test.cpp — `ringscope run --qmp` against real guests, through the
// client class (control::QmpClient) and through raw sockets: every command,
// the events, bad input, two clients, and the live test (a guest started
// paused, stepped ten exits: the trace on disk holds exactly those, then it
// runs to its end). Each test runs in every mode this host has: full-virt
// and paravirt need /dev/kvm (skipped with the reason otherwise, and under
// RINGSCOPE_NO_KVM=1), emulation runs everywhere.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "ringscope/control/qmp_client.h"
#include "ringscope/host.h"
#include "ringscope/trace.h"

namespace {

namespace fs = std::filesystem;
using ringscope::control::QmpClient;
using Json = nlohmann::json;

// A `ringscope run ... --qmp unix:PATH --qmp-wait` child. Started paused, so
// nothing in a test races the guest: it moves only when the test says so.
class Vm {
 public:
  Vm(const fs::path& dir, const std::string& scenario, const std::string& mode, std::vector<std::string> extra = {})
      : socket_(dir / "vm.qmp"), trace_(dir / "vm.rtrace") {
    std::vector<std::string> argv = {RINGSCOPE_BIN, "run",     scenario,        "--mode", mode,
                                     "--quiet",     "--trace", trace_.string(), "--qmp",  "unix:" + socket_.string(),
                                     "--qmp-wait"};
    for (auto& e : extra) argv.push_back(e);
    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(err[1], 2);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(err[1]);
    // Ready when it says where QMP listens (its first line about QMP).
    std::string line;
    char c;
    while (::read(err[0], &c, 1) == 1) {
      stderr_ += c;
      if (c == '\n') {
        if (line.find("QMP on") != std::string::npos) break;
        line.clear();
      } else {
        line += c;
      }
    }
    err_fd_ = err[0];
  }
  ~Vm() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }
  // The child's exit status, once it has ended by itself.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_fd_, buf, sizeof buf)) > 0) stderr_.append(buf, size_t(n));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::unique_ptr<QmpClient> client(bool negotiate = true) {
    auto c = QmpClient::connect(socket_.string());
    if (!c.ok()) {
      ADD_FAILURE() << c.error().message << "\nstderr: " << stderr_;
      return nullptr;
    }
    if (negotiate) {
      EXPECT_TRUE(c.value()->negotiate().ok());
    }
    return std::move(c).value();
  }
  const fs::path& socket() const { return socket_; }
  const fs::path& trace() const { return trace_; }
  const std::string& err() const { return stderr_; }

 private:
  fs::path socket_, trace_;
  pid_t pid_ = -1;
  int err_fd_ = -1;
  bool exited_ = false;
  std::string stderr_;
};

// A raw connection, for what a library would never send.
class Raw {
 public:
  explicit Raw(const fs::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_TRUE(read().contains("QMP"));
  }
  ~Raw() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += size_t(n);
    }
  }
  // The next message that is not an event.
  Json read() {
    for (;;) {
      size_t nl;
      while ((nl = buf_.find('\n')) == std::string::npos) {
        char b[65536];
        ssize_t n = ::recv(fd_, b, sizeof b, 0);
        if (n <= 0) return Json();
        buf_.append(b, size_t(n));
      }
      Json j = Json::parse(buf_.substr(0, nl), nullptr, false);
      buf_.erase(0, nl + 1);
      if (!j.contains("event")) return j;
    }
  }
  std::string error_class() {
    Json j = read();
    return j.contains("error") ? j["error"]["class"].get<std::string>() : "no error: " + j.dump();
  }
  std::string error_desc() {
    Json j = read();
    return j.contains("error") ? j["error"]["desc"].get<std::string>() : "no error: " + j.dump();
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

Json ret(const ringscope::Result<Json>& r) {
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    return Json();
  }
  EXPECT_TRUE(r.value().contains("return")) << r.value().dump();
  return r.value().value("return", Json());
}

std::string error_class(const ringscope::Result<Json>& r) {
  if (!r.ok()) return r.error().message;
  return r.value().contains("error") ? r.value()["error"]["class"].get<std::string>() : "no error";
}

class Qmp : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != "emulation") {
      auto h = ringscope::probe_host();
      if (!h.kvm_openable) GTEST_SKIP() << GetParam() << " needs /dev/kvm: " << h.kvm_open_error;
    }
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      if (c == '/') c = '_';
    dir_ = fs::path("/tmp") / ("rs-qmp-" + std::to_string(getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

// Every command once, against one guest; the events they cause.
TEST_P(Qmp, EveryCommandAndItsEvents) {
  Vm vm(dir_, "syscalls", GetParam());
  auto c = vm.client(/*negotiate=*/false);
  ASSERT_TRUE(c);
  const Json& g = c->greeting();
  EXPECT_TRUE(g["QMP"]["version"]["qemu"].contains("major")) << g.dump();
  EXPECT_TRUE(g["QMP"]["capabilities"].is_array());
  EXPECT_EQ(error_class(c->execute("query-status")), "CommandNotFound") << "commands wait for qmp_capabilities";
  EXPECT_TRUE(ret(c->execute("qmp_capabilities")).empty());
  EXPECT_EQ(error_class(c->execute("qmp_capabilities")), "CommandNotFound") << "negotiation happens once";

  Json st = ret(c->execute("query-status"));
  EXPECT_EQ(st, Json({{"running", false}, {"singlestep", false}, {"status", "paused"}}));
  EXPECT_TRUE(ret(c->execute("stop")).empty()) << "answered once every vCPU is parked";
  EXPECT_EQ(ret(c->execute("query-name")), Json({{"name", "syscalls"}}));
  Json v = ret(c->execute("query-version"));
  EXPECT_TRUE(v["package"].get<std::string>().starts_with("ringscope")) << v.dump();
  std::set<std::string> names;
  for (const auto& cmd : ret(c->execute("query-commands"))) names.insert(cmd["name"].get<std::string>());
  for (const char* n : {"qmp_capabilities", "query-status", "stop", "cont", "system_reset", "quit", "query-cpus-fast",
                        "query-name", "query-version", "query-commands", "__org.ringscope_step-exit",
                        "__org.ringscope_step-instruction", "__org.ringscope_break-add", "__org.ringscope_break-remove",
                        "__org.ringscope_query-breaks", "__org.ringscope_query-registers",
                        "__org.ringscope_query-events", "__org.ringscope_console-write", "__org.ringscope_query-trace"})
    EXPECT_TRUE(names.count(n)) << n;

  Json cpus = ret(c->execute("query-cpus-fast"));
  ASSERT_EQ(cpus.size(), 1u) << cpus.dump();
  EXPECT_EQ(cpus[0]["cpu-index"], 0);
  EXPECT_GT(cpus[0]["thread-id"].get<int64_t>(), 0);
  Json regs = ret(c->execute("__org.ringscope_query-registers"));
  EXPECT_NE(regs.value("rip", 0ull), 0ull) << regs.dump();
  EXPECT_EQ(error_class(c->execute("__org.ringscope_query-registers", {{"cpu-index", 5}})), "GenericError");

  // Steps: one exit each, each announced by STOP and __org.ringscope_BREAK.
  uint64_t last_seq = 0;
  for (int i = 0; i < 3; i++) {
    Json r = ret(c->execute("__org.ringscope_step-exit"));
    ASSERT_EQ(r.value("status", ""), "debug") << r.dump();
    EXPECT_EQ(r["event"]["kind"], "vm_exit");
    EXPECT_GT(r["event"]["seq"].get<uint64_t>() + (i == 0), last_seq);
    last_seq = r["event"]["seq"].get<uint64_t>();
    auto stop = c->wait_event("STOP");
    ASSERT_TRUE(stop);
    EXPECT_TRUE((*stop)["timestamp"].contains("seconds"));
    auto brk = c->wait_event("__org.ringscope_BREAK");
    ASSERT_TRUE(brk);
    EXPECT_EQ((*brk)["data"]["reason"], "step-exit");
    EXPECT_EQ((*brk)["data"]["event"], r["event"]);
  }
  EXPECT_EQ(ret(c->execute("query-status"))["status"], "debug");
  Json evs = ret(c->execute("__org.ringscope_query-events", {{"count", 2}}));
  ASSERT_EQ(evs["events"].size(), 2u);
  EXPECT_GE(evs["total"].get<uint64_t>(), 3u);
  Json tr = ret(c->execute("__org.ringscope_query-trace"));
  EXPECT_EQ(tr["path"], vm.trace().string());
  EXPECT_GT(tr["events"].get<uint64_t>(), last_seq);
  EXPECT_EQ(error_class(c->execute("__org.ringscope_step-instruction")), "GenericError") << "level exits";

  // A breakpoint on the probe port (its markers, in every mode): the guest
  // stops at its next access there.
  Json id = ret(c->execute("__org.ringscope_break-add", {{"kind", "vm_exit"}, {"port", 0xf0}}));
  ASSERT_TRUE(id.contains("id"));
  Json breaks = ret(c->execute("__org.ringscope_query-breaks"));
  ASSERT_EQ(breaks.size(), 1u);
  EXPECT_EQ(breaks[0]["port"], 0xf0);
  EXPECT_EQ(breaks[0]["id"], id["id"]);
  EXPECT_EQ(error_class(c->execute("__org.ringscope_break-add", {{"kind", "no_such_kind"}})), "GenericError");
  EXPECT_EQ(error_class(c->execute("__org.ringscope_break-add")), "GenericError") << "a filter needs a key";
  EXPECT_TRUE(ret(c->execute("cont")).empty());
  EXPECT_TRUE(c->wait_event("RESUME"));
  auto brk = c->wait_event("__org.ringscope_BREAK");
  ASSERT_TRUE(brk);
  EXPECT_EQ((*brk)["data"]["reason"], "breakpoint");
  EXPECT_EQ((*brk)["data"]["id"], id["id"]);
  EXPECT_EQ((*brk)["data"]["event"]["port"], 0xf0);
  EXPECT_TRUE(ret(c->execute("__org.ringscope_break-remove", id)).empty());
  EXPECT_EQ(error_class(c->execute("__org.ringscope_break-remove", id)), "GenericError") << "gone already";
  EXPECT_TRUE(ret(c->execute("__org.ringscope_query-breaks")).empty());

  EXPECT_TRUE(ret(c->execute("__org.ringscope_console-write", {{"data", "aGk="}, {"format", "base64"}})).empty());
  EXPECT_EQ(error_class(c->execute("__org.ringscope_console-write", {{"data", "!!"}, {"format", "base64"}})),
            "GenericError");

  // system_reset: the machine boots again (still paused), then runs to its end.
  EXPECT_TRUE(ret(c->execute("system_reset")).empty());
  auto reset = c->wait_event("RESET");
  ASSERT_TRUE(reset);
  EXPECT_EQ((*reset)["data"]["reason"], "host-qmp-system-reset");
  EXPECT_TRUE(ret(c->execute("cont")).empty());
  auto down = c->wait_event("SHUTDOWN");
  ASSERT_TRUE(down) << vm.err();
  EXPECT_EQ((*down)["data"], Json({{"guest", true}, {"reason", "guest-shutdown"}}));
  EXPECT_EQ(vm.wait(), 0) << vm.err();

  auto t = ringscope::read_trace(vm.trace().string());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().complete);
  int run_ends = 0, resets = 0;
  for (const auto& e : t.value().events) {
    run_ends += e.kind == ringscope::EventKind::RunEnd;
    resets += e.kind == ringscope::EventKind::Marker && e.name == "system_reset";
  }
  EXPECT_EQ(run_ends, 1) << "one run_end, the last event";
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(t.value().events.back().kind, ringscope::EventKind::RunEnd);
}

TEST_P(Qmp, QuitEndsTheRunWithTheTraceClosed) {
  Vm vm(dir_, "syscalls", GetParam());
  auto c = vm.client();
  ASSERT_TRUE(c);
  ASSERT_TRUE(ret(c->execute("__org.ringscope_step-exit")).contains("event"));
  EXPECT_TRUE(ret(c->execute("quit")).empty());
  auto down = c->wait_event("SHUTDOWN");
  ASSERT_TRUE(down);
  EXPECT_EQ((*down)["data"], Json({{"guest", false}, {"reason", "host-qmp-quit"}}));
  EXPECT_EQ(vm.wait(), 1) << "the guest did not finish";
  auto t = ringscope::read_trace(vm.trace().string());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().complete) << t.value().warning;
  ASSERT_FALSE(t.value().events.empty());
  EXPECT_EQ(t.value().events.back().kind, ringscope::EventKind::RunEnd);
  EXPECT_EQ(t.value().events.back().end_reason, ringscope::RunEndReason::Quit);
}

// What a misbehaving client sends gets QMP's error replies; the guest and
// the trace never notice.
TEST_P(Qmp, BadInputGetsErrorsAndHarmsNothing) {
  Vm vm(dir_, "syscalls", GetParam());
  {
    Raw r(vm.socket());
    r.send("{\"execute\":\"query-status\"}\n");
    EXPECT_EQ(r.error_class(), "CommandNotFound") << "before qmp_capabilities";
    r.send("{\"execute\":\"qmp_capabilities\"}");  // no newline: QEMU's own client sends none
    EXPECT_TRUE(r.read().contains("return"));
    r.send("hello\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    r.send("{\"execute\": \"query-status\",}\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    r.send("[1, 2]\n");
    EXPECT_EQ(r.error_desc(), "QMP input must be a JSON object");
    r.send("{\"foo\": 1}\n");
    EXPECT_EQ(r.error_desc(), "QMP input lacks member 'execute'");
    r.send("{\"execute\": 7}\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    r.send("{\"execute\": \"no-such-command\", \"id\": \"x1\"}\n");
    Json nf = r.read();
    EXPECT_EQ(nf["error"]["class"], "CommandNotFound");
    EXPECT_EQ(nf["id"], "x1") << "the id comes back, whatever it is";
    r.send("{\"execute\": \"__org.ringscope_break-remove\"}\n");
    EXPECT_EQ(r.error_desc(), "Parameter 'id' is missing");
    r.send("{\"execute\": \"__org.ringscope_break-remove\", \"arguments\": {\"id\": \"one\"}}\n");
    EXPECT_EQ(r.error_desc(), "Invalid parameter type for 'id', expected: integer");
    r.send("{\"execute\": \"query-status\", \"arguments\": {\"verbose\": true}}\n");
    EXPECT_EQ(r.error_desc(), "Parameter 'verbose' is unexpected");
    r.send("{\"execute\": \"query-status\", \"arguments\": []}\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    r.send("{\"execute\": \"__org.ringscope_query-events\", \"arguments\": {\"count\": -1}}\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    // Too large to be a command: refused, and the connection goes on.
    r.send("{\"execute\": \"x\", \"arguments\": {\"data\": \"" + std::string(2u << 20, 'a') + "\"}}\n");
    EXPECT_EQ(r.error_class(), "GenericError");
    // A flood: every command answered, in order.
    std::string flood;
    const int kFlood = 2000;
    for (int i = 0; i < kFlood; i++) flood += "{\"execute\":\"query-status\",\"id\":" + std::to_string(i) + "}";
    r.send(flood);
    int in_order = 0;
    for (int i = 0; i < kFlood; i++) in_order += r.read().value("id", -1) == i;
    EXPECT_EQ(in_order, kFlood);
    // Gone in the middle of a command that waits for the guest.
    r.send("{\"execute\":\"__org.ringscope_step-exit\"}\n");
    r.close();
  }
  // The guest stepped for a client that left; another client finds it
  // paused, and it runs to its end as if nothing had happened.
  auto c = vm.client();
  ASSERT_TRUE(c);
  for (Json st = ret(c->execute("query-status")); st["status"] == "running"; st = ret(c->execute("query-status")))
    c->pump(10);
  EXPECT_TRUE(ret(c->execute("cont")).empty());
  ASSERT_TRUE(c->wait_event("SHUTDOWN"));
  EXPECT_EQ(vm.wait(), 0) << vm.err();
  auto t = ringscope::read_trace(vm.trace().string());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().complete);
  EXPECT_EQ(t.value().events.back().end_reason, ringscope::RunEndReason::GuestExit);
}

TEST_P(Qmp, TwoClientsSeeTheSameGuest) {
  Vm vm(dir_, "syscalls", GetParam());
  auto a = vm.client();
  auto b = vm.client();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(ret(a->execute("__org.ringscope_step-exit")).contains("event"));
  // Both are told; b sees the pause a asked for.
  ASSERT_TRUE(a->wait_event("__org.ringscope_BREAK"));
  ASSERT_TRUE(b->wait_event("__org.ringscope_BREAK"));
  EXPECT_EQ(ret(b->execute("query-status"))["status"], "debug");
  EXPECT_EQ(ret(a->execute("__org.ringscope_query-events", {{"count", 1}}))["events"],
            ret(b->execute("__org.ringscope_query-events", {{"count", 1}}))["events"]);
  // b's step, a's query.
  Json r = ret(b->execute("__org.ringscope_step-exit"));
  ASSERT_TRUE(r.contains("event"));
  // a sees b's exit among the latest events (the device work it caused follows it).
  Json latest = ret(a->execute("__org.ringscope_query-events", {{"count", 16}}));
  bool seen = false;
  for (const auto& e : latest["events"]) seen = seen || e == r["event"];
  EXPECT_TRUE(seen) << r.dump() << "\n" << latest.dump();
  // A client that connects now still gets the history kept since the first
  // client came (the ring holds the latest 1024; --qmp-wait held the guest
  // until then, so from the run's start): the first step's exit is in it,
  // and paging with `since` returns what followed it.
  auto late = vm.client();
  ASSERT_TRUE(late);
  Json all = ret(late->execute("__org.ringscope_query-events", {{"count", 1024}}));
  ASSERT_FALSE(all["events"].empty());
  EXPECT_EQ(all["events"].back(), latest["events"].back());
  EXPECT_EQ(all["oldest"], all["events"].front()["seq"]);
  EXPECT_EQ(all["events"].front()["seq"], 0) << "a short run: nothing dropped yet";
  uint64_t step_seq = r["event"]["seq"].get<uint64_t>();
  Json since = ret(late->execute("__org.ringscope_query-events", {{"since", step_seq - 1}, {"count", 1}}));
  ASSERT_EQ(since["events"].size(), 1u);
  EXPECT_EQ(since["events"][0], r["event"]);
  EXPECT_EQ(since["dropped"], 0);
  EXPECT_TRUE(ret(b->execute("cont")).empty());
  ASSERT_TRUE(a->wait_event("RESUME"));
  ASSERT_TRUE(a->wait_event("SHUTDOWN"));
  ASSERT_TRUE(b->wait_event("SHUTDOWN"));
  EXPECT_EQ(vm.wait(), 0) << vm.err();
}

// The figure in "after N ms" of the run's summary, and the paused time
// the summary reports apart ("paused N ms more"); -1 when absent.
double summary_ms(const std::string& err, const std::string& before) {
  size_t at = err.find(before);
  if (at == std::string::npos) return -1;
  return std::strtod(err.c_str() + at + before.size(), nullptr);
}

// Time spent paused under QMP is reported apart and left out of the run's
// time: the guest was paused at least while the test held it (measured
// here, against the test's own clock), and running + paused fits in the
// child's whole life.
TEST_P(Qmp, PausedTimeIsReportedApart) {
  auto born = std::chrono::steady_clock::now();
  double held_ms = 0;
  int code = 0;
  std::string err;
  {
    Vm vm(dir_, "syscalls", GetParam());
    auto c = vm.client();
    ASSERT_TRUE(c);
    ASSERT_TRUE(ret(c->execute("__org.ringscope_step-exit")).contains("event"));
    // Held: a few hundred round trips while the guest waits.
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; i++) ASSERT_EQ(ret(c->execute("query-status"))["status"], "debug");
    held_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(ret(c->execute("cont")).empty());
    ASSERT_TRUE(c->wait_event("SHUTDOWN"));
    code = vm.wait();
    err = vm.err();
  }
  double life_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - born).count();
  EXPECT_EQ(code, 0) << err;
  double ran = summary_ms(err, " after ");
  double paused = summary_ms(err, "paused ");
  ASSERT_GE(ran, 0) << err;
  ASSERT_GT(paused, 0) << "the summary reports the paused time: " << err;
  EXPECT_GE(paused + 0.1, held_ms) << err;  // 0.1: the summary's rounding
  EXPECT_LE(ran + paused, life_ms + 0.1) << err;
}

// The live test: start syscalls paused, step ten exits; the trace on disk
// holds exactly those exits so far; then continue to the end.
TEST_P(Qmp, LiveStepTenExitsTheTraceHoldsExactlyThose) {
  Vm vm(dir_, "syscalls", GetParam());
  auto c = vm.client();
  ASSERT_TRUE(c);
  std::vector<uint64_t> stepped;
  for (int i = 0; i < 10; i++) {
    Json r = ret(c->execute("__org.ringscope_step-exit"));
    ASSERT_TRUE(r.contains("event")) << r.dump();
    stepped.push_back(r["event"]["seq"].get<uint64_t>());
  }
  // The file as it is now, while the guest is paused and the writer open.
  std::vector<uint64_t> on_disk;
  auto st = ringscope::for_each_event(vm.trace().string(), {}, [&](const ringscope::Event& e) {
    if (e.kind == ringscope::EventKind::VmExit) on_disk.push_back(e.seq);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(on_disk, stepped) << "every stepped exit, and no other, is in the file";

  EXPECT_TRUE(ret(c->execute("cont")).empty());
  ASSERT_TRUE(c->wait_event("SHUTDOWN"));
  EXPECT_EQ(vm.wait(), 0) << vm.err();
  auto t = ringscope::read_trace(vm.trace().string());
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().complete);
  size_t exits = 0;
  for (const auto& e : t.value().events) exits += e.kind == ringscope::EventKind::VmExit;
  EXPECT_GT(exits, stepped.size()) << "and then the rest of the run";
}

// At level full, one instruction at a time: each step is one `step` event.
TEST_P(Qmp, StepInstructionAtLevelFull) {
  Vm vm(dir_, "hello", GetParam(), {"--level", "full"});
  auto c = vm.client();
  ASSERT_TRUE(c);
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 5; i++) {
    Json r = ret(c->execute("__org.ringscope_step-instruction"));
    ASSERT_EQ(r["event"]["kind"], "step") << r.dump();
    ASSERT_TRUE(c->wait_event("__org.ringscope_BREAK"));
    seqs.push_back(r["event"]["seq"].get<uint64_t>());
  }
  for (size_t i = 1; i < seqs.size(); i++) EXPECT_GT(seqs[i], seqs[i - 1]);
  EXPECT_TRUE(ret(c->execute("__org.ringscope_query-registers")).contains("rip"));
  EXPECT_TRUE(ret(c->execute("quit")).empty());
  EXPECT_EQ(vm.wait(), 1);
}

// `ringscope qmp`: one command from a shell; its exit status says how it went.
TEST_P(Qmp, ShellCommand) {
  Vm vm(dir_, "syscalls", GetParam());
  auto shell = [&](const std::string& args, std::string* out = nullptr) {
    std::string cmd = std::string(RINGSCOPE_BIN) + " qmp " + vm.socket().string() + " " + args + " 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    int status = pclose(p);
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  std::string out;
  EXPECT_EQ(shell("query-status", &out), 0) << out;
  EXPECT_EQ(Json::parse(out)["status"], "paused");
  EXPECT_EQ(shell("__org.ringscope_step-exit", &out), 0) << out;
  EXPECT_EQ(Json::parse(out)["event"]["kind"], "vm_exit");
  EXPECT_EQ(shell("__org.ringscope_break-add kind=vm_exit port=0x3f8", &out), 0) << out;
  EXPECT_EQ(Json::parse(out)["id"], 1);
  EXPECT_EQ(shell("__org.ringscope_break-remove '{\"id\": 1}'", &out), 0) << out;
  EXPECT_EQ(shell("__org.ringscope_query-events count:=1", &out), 0) << out;
  EXPECT_EQ(Json::parse(out)["events"].size(), 1u);
  EXPECT_EQ(shell("no-such-command", &out), 1);
  EXPECT_NE(out.find("CommandNotFound"), std::string::npos) << out;
  EXPECT_EQ(shell("query-status notakeyvalue", &out), 64) << out;
  EXPECT_EQ(shell("quit", &out), 0) << out;
  EXPECT_EQ(vm.wait(), 1);
  std::string cmd = std::string(RINGSCOPE_BIN) + " qmp " + (dir_ / "nothing.qmp").string() + " query-status 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 66) << "no socket there";
}

INSTANTIATE_TEST_SUITE_P(Modes, Qmp, ::testing::Values("full-virt", "paravirt", "emulation"), [](const auto& info) {
  std::string n = info.param;
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
});

// Several vCPUs (KVM): each a thread the control parks and lists.
TEST(QmpSmp, EveryVcpuParksAndIsListed) {
  auto h = ringscope::probe_host();
  if (!h.kvm_openable) GTEST_SKIP() << "several vCPUs need /dev/kvm: " << h.kvm_open_error;
  fs::path dir = fs::path("/tmp") / ("rs-qmp-smp-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Vm vm(dir, "smp-hello", "full-virt", {"--vcpus", "2"});
  auto c = vm.client();
  ASSERT_TRUE(c);
  // Let it boot its second CPU, then stop it wherever it is.
  ASSERT_TRUE(ret(c->execute("cont")).empty());
  for (int i = 0; i < 20; i++) ASSERT_TRUE(ret(c->execute("__org.ringscope_step-exit")).contains("event"));
  EXPECT_TRUE(ret(c->execute("stop")).empty());
  Json cpus = ret(c->execute("query-cpus-fast"));
  ASSERT_EQ(cpus.size(), 2u) << cpus.dump();
  EXPECT_NE(cpus[0]["thread-id"], cpus[1]["thread-id"]);
  EXPECT_TRUE(ret(c->execute("__org.ringscope_query-registers", {{"cpu-index", 1}})).contains("rip"));
  EXPECT_TRUE(ret(c->execute("cont")).empty());
  ASSERT_TRUE(c->wait_event("SHUTDOWN"));
  EXPECT_EQ(vm.wait(), 0) << vm.err();
  fs::remove_all(dir);
}

}  // namespace

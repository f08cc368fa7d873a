// writer.cpp — TraceWriter: header, chunk framing, the file.
//
// emit() encodes into the current chunk (chunk_encoder.cpp) and only when
// the chunk is full seals it: frame, CRC, one writev(). A process killed at
// any instant therefore leaves the header plus whole chunks plus at most one
// torn chunk, which the reader detects by its length and CRC.
//
// Live reading: a chunk is also sealed once its first event has waited the
// flush period (TraceWriterOptions). emit() notes the clock when it opens a
// chunk; flush_if_due() compares, lock-free until a chunk is actually due.
// File writers run a flusher thread that calls it every period / 4, so the
// events of a guest that went idle (halted, waiting for input) reach the
// file too.
#include <fcntl.h>
#include <sched.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "chunk_encoder.h"
#include "crc32.h"
#include "fmt/format.h"
#include "format.h"
#include "header_codec.h"
#include "ringscope/backend.h"
#include "ringscope/files.h"
#include "ringscope/trace.h"
#include "varint.h"

namespace ringscope {

using namespace trace;

namespace {

// vCPU threads share one writer. The critical section is a few tens of
// nanoseconds, so a spin lock beats a mutex; it yields if a holder is
// writing a chunk.
class SpinLock {
 public:
  void lock() {
    for (int spins = 0; flag_.exchange(true, std::memory_order_acquire); ++spins) {
      if (spins > 64) sched_yield();
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> flag_{false};
};

struct Guard {
  explicit Guard(SpinLock& l) : l_(l) { l_.lock(); }
  ~Guard() { l_.unlock(); }
  SpinLock& l_;
};

}  // namespace

struct TraceWriter::Impl {
  static constexpr uint64_t kNoChunk = UINT64_MAX;

  enum class Target { File, Memory, Discard } target = Target::File;
  TraceWriterOptions options;
  // When the chunk being filled got its first event (kNoChunk: it is empty).
  // Written under `lock`; read without it by flush_if_due().
  std::atomic<uint64_t> opened_ns{kNoChunk};
  std::atomic<uint64_t> period_flushes{0}, flusher_checks{0};
  std::thread flusher;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stop = false;
  std::string path;
  int fd = -1;
  std::vector<uint8_t> memory;
  ChunkEncoder encoder;
  uint64_t chunk_first_seq = 0;
  uint64_t bytes = 0;
  std::optional<Error> io_error;  // sticky: after a failed write the trace ends there
  bool closed = false;
  SpinLock lock;

  void output(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) {
    if (io_error) return;
    bytes += a_len + b_len;
    if (target == Target::Memory) {
      memory.insert(memory.end(), a, a + a_len);
      memory.insert(memory.end(), b, b + b_len);
      return;
    }
    if (target == Target::Discard) return;
    iovec iov[2] = {{const_cast<uint8_t*>(a), a_len}, {const_cast<uint8_t*>(b), b_len}};
    int n_iov = 2;
    iovec* v = iov;
    while (n_iov > 0) {
      ssize_t n = ::writev(fd, v, n_iov);
      if (n < 0) {
        if (errno == EINTR) continue;
        io_error = make_error(ErrorKind::IoError,
                              fmt::format("cannot write the trace file {}: {}; the trace ends at the last complete "
                                          "chunk (free some disk space or choose another --trace path)",
                                          path, std::strerror(errno)));
        return;
      }
      auto done = static_cast<size_t>(n);
      while (n_iov > 0 && done >= v->iov_len) {
        done -= v->iov_len;
        ++v;
        --n_iov;
      }
      if (n_iov > 0) {
        v->iov_base = static_cast<uint8_t*>(v->iov_base) + done;
        v->iov_len -= done;
      }
    }
  }

  void write_chunk(uint8_t type, const uint8_t* payload, size_t len, uint32_t count, uint64_t first_time,
                   uint64_t first_seq) {
    uint8_t h[kChunkHeaderSize] = {};
    std::memcpy(h, kChunkMagic, sizeof kChunkMagic);
    h[4] = type;
    put_u32le(h + 8, static_cast<uint32_t>(len));
    put_u32le(h + 12, count);
    put_u64le(h + 16, first_time);
    put_u64le(h + 24, first_seq);
    put_u32le(h + 32, crc32(payload, len));
    put_u32le(h + 36, crc32(h, 36));
    output(h, sizeof h, payload, len);
  }

  // Seal the current chunk, if it has events.
  void seal(uint64_t next_seq) {
    if (encoder.count() == 0) return;
    write_chunk(kChunkEvents, encoder.data(), encoder.size(), encoder.count(), encoder.first_time_ns(),
                chunk_first_seq);
    encoder.reset();
    chunk_first_seq = next_seq;
    opened_ns.store(kNoChunk, std::memory_order_relaxed);
  }

  uint64_t now() const { return options.clock ? options.clock() : monotonic_ns(); }

  void start_flusher(TraceWriter* w) {
    if (options.flush_period_ns == 0 || !options.flusher_thread || target != Target::File) return;
    const auto tick = std::chrono::nanoseconds(std::max<uint64_t>(options.flush_period_ns / 4, 1'000'000));
    flusher = std::thread([this, w, tick] {
      std::unique_lock<std::mutex> l(stop_mu);
      while (!stop) {
        stop_cv.wait_for(l, tick, [this] { return stop; });
        if (stop) break;
        l.unlock();
        w->flush_if_due();
        flusher_checks.fetch_add(1, std::memory_order_relaxed);
        l.lock();
      }
    });
  }
  void stop_flusher() {
    if (!flusher.joinable()) return;
    {
      std::lock_guard<std::mutex> l(stop_mu);
      stop = true;
    }
    stop_cv.notify_all();
    flusher.join();
  }

  Status status() const { return io_error ? Status(*io_error) : ok_status(); }
};

Result<std::unique_ptr<TraceWriter>> TraceWriter::create(const std::string& path, const TraceHeader& header,
                                                         TraceWriterOptions options) {
  // create_output_file: a symlink planted where the trace goes is refused,
  // not followed (the trace would overwrite whatever it points at).
  auto created = create_output_file(path, "the trace file");
  if (!created) {
    Error e = created.error();
    if (e.message.find("symbolic link") == std::string::npos && e.message.find("not a regular") == std::string::npos)
      e.message += "; check that the directory exists and is writable";
    return e;
  }
  const int fd = created.value();
  std::unique_ptr<TraceWriter> w(new TraceWriter());
  w->impl_ = std::make_unique<Impl>();
  w->impl_->path = path;
  w->impl_->fd = fd;
  w->impl_->options = std::move(options);
  const auto bytes = encode_file_header(header);
  w->impl_->output(bytes.data(), bytes.size(), nullptr, 0);
  if (w->impl_->io_error) return *w->impl_->io_error;
  w->impl_->start_flusher(w.get());
  return w;
}

std::unique_ptr<TraceWriter> TraceWriter::create_in_memory(const TraceHeader& header, MemoryTarget target,
                                                           TraceWriterOptions options) {
  std::unique_ptr<TraceWriter> w(new TraceWriter());
  w->impl_ = std::make_unique<Impl>();
  w->impl_->options = std::move(options);
  w->impl_->path = "(memory)";
  w->impl_->target = target == MemoryTarget::Memory ? Impl::Target::Memory : Impl::Target::Discard;
  const auto bytes = encode_file_header(header);
  w->impl_->output(bytes.data(), bytes.size(), nullptr, 0);
  return w;
}

TraceWriter::~TraceWriter() {
  if (impl_) (void)close();
}

void TraceWriter::emit(Event& e) {
  Impl& im = *impl_;
  Guard g(im.lock);
  e.seq = next_seq_;
  if (im.closed) return;  // misuse: an event after close() is numbered but not stored
  if (!im.encoder.fits(e)) {
    im.seal(next_seq_);
    im.encoder.grow(ChunkEncoder::worst_case_size(e));  // no-op unless one event is larger than a chunk
  }
  // The clock is read once per chunk, for its first event (flush_if_due).
  if (im.encoder.count() == 0 && im.options.flush_period_ns != 0)
    im.opened_ns.store(im.now(), std::memory_order_relaxed);
  im.encoder.encode(e);
  ++next_seq_;
  if (im.encoder.size() >= kChunkTarget) im.seal(next_seq_);
}

Status TraceWriter::flush() {
  Impl& im = *impl_;
  Guard g(im.lock);
  if (!im.closed) im.seal(next_seq_);
  return im.status();
}

bool TraceWriter::flush_if_due() {
  Impl& im = *impl_;
  const uint64_t period = im.options.flush_period_ns;
  if (period == 0 || im.opened_ns.load(std::memory_order_relaxed) == Impl::kNoChunk) return false;
  const uint64_t now = im.now();
  const auto due = [&] {
    const uint64_t opened = im.opened_ns.load(std::memory_order_relaxed);
    return opened != Impl::kNoChunk && now >= opened && now - opened >= period;
  };
  if (!due()) return false;  // the common case takes no lock
  Guard g(im.lock);
  if (im.closed || im.encoder.count() == 0 || !due()) return false;
  im.seal(next_seq_);
  im.period_flushes.fetch_add(1, std::memory_order_relaxed);
  return true;
}

uint64_t TraceWriter::period_flushes() const { return impl_->period_flushes.load(std::memory_order_relaxed); }
uint64_t TraceWriter::flusher_checks() const { return impl_->flusher_checks.load(std::memory_order_relaxed); }

Status TraceWriter::close() {
  Impl& im = *impl_;
  im.stop_flusher();  // before the lock: the flusher may be waiting for it
  Guard g(im.lock);
  if (im.closed) return im.status();
  im.seal(next_seq_);
  // The end mark: an empty chunk whose first_seq is the total event count.
  uint8_t total[kMaxVarint];
  const size_t n = static_cast<size_t>(put_varint(total, next_seq_) - total);
  im.write_chunk(kChunkEnd, total, n, 0, 0, next_seq_);
  im.closed = true;
  if (im.fd >= 0) {
    if (::close(im.fd) != 0 && !im.io_error)
      im.io_error = make_error(ErrorKind::IoError,
                               fmt::format("cannot close the trace file {}: {}", im.path, std::strerror(errno)));
    im.fd = -1;
  }
  return im.status();
}

uint64_t TraceWriter::bytes_written() const { return impl_->bytes; }

const std::vector<uint8_t>& TraceWriter::memory_bytes() const { return impl_->memory; }

}  // namespace ringscope

// crc32.cpp — CRC-32 by "slicing-by-8": eight 256-entry tables let the loop
// consume eight bytes per step, so sealing a 64 KiB chunk costs tens of
// microseconds instead of hundreds (the writer does it on the vCPU thread).
// On x86-64 CPUs with PCLMULQDQ (checked at run time) the bulk goes through
// carry-less multiplication instead, about ten times faster again.
#include "crc32.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ringscope::trace {
namespace {

constexpr uint32_t kPolynomial = 0xEDB88320u;  // reflected 0x04C11DB7

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

constexpr Tables kTables;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Carry-less multiplication folds 64 bytes per step ("Fast CRC Computation
// for Generic Polynomials Using PCLMULQDQ", Intel 2009; the constants are
// those of zlib's crc32_simd.c and Linux's crc32-pclmul for the reflected
// IEEE polynomial). A chunk of 64 KiB then costs a few microseconds, which
// matters on the writer's emit path and for every chunk a reader checks.
// `len` is at least 64 and a multiple of 16; `crc` is the running
// (inverted) register, as in the table loop.
#define RS_CLMUL __attribute__((target("pclmul,sse4.1")))
RS_CLMUL inline __m128i load16(const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); }
// x1 * x^(128) mod P, plus `next`: one 16-byte fold with the constants in k.
RS_CLMUL inline __m128i fold16(__m128i x1, __m128i k, __m128i next) {
  const __m128i lo = _mm_clmulepi64_si128(x1, k, 0x00);
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k, 0x11), next), lo);
}

RS_CLMUL uint32_t crc32_clmul(const uint8_t* buf, size_t len, uint32_t crc) {
  alignas(16) static const uint64_t k1k2[] = {0x0154442bd4, 0x01c6e41596};
  alignas(16) static const uint64_t k3k4[] = {0x01751997d0, 0x00ccaa009e};
  alignas(16) static const uint64_t k5k0[] = {0x0163cd6124, 0x0000000000};
  alignas(16) static const uint64_t poly[] = {0x01db710641, 0x01f7011641};
  __m128i x1 = load16(buf), x2 = load16(buf + 16), x3 = load16(buf + 32), x4 = load16(buf + 48);
  x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k1k2));
  buf += 64;
  len -= 64;
  while (len >= 64) {  // four lanes in parallel
    x1 = fold16(x1, x0, load16(buf));
    x2 = fold16(x2, x0, load16(buf + 16));
    x3 = fold16(x3, x0, load16(buf + 32));
    x4 = fold16(x4, x0, load16(buf + 48));
    buf += 64;
    len -= 64;
  }
  // Fold the four lanes into one, then the remaining 16-byte blocks.
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(k3k4));
  x1 = fold16(x1, x0, x2);
  x1 = fold16(x1, x0, x3);
  x1 = fold16(x1, x0, x4);
  for (; len >= 16; buf += 16, len -= 16) x1 = fold16(x1, x0, load16(buf));
  // 128 bits to 64, then Barrett reduction to 32.
  const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
  x0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(k5k0));
  x2 = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x00), x2);
  x0 = _mm_load_si128(reinterpret_cast<const __m128i*>(poly));
  x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), x0, 0x10);
  x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, mask32), x0, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, x2), 1));
}

#undef RS_CLMUL

bool have_clmul() {
  static const bool yes = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return yes;
}
#endif

}  // namespace

uint32_t crc32(const void* data, size_t len, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  const auto& t = kTables.t;
  crc = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (len >= 64 && have_clmul()) {
    const size_t bulk = len & ~size_t{15};
    crc = crc32_clmul(p, bulk, crc);
    p += bulk;
    len -= bulk;
  }
#endif
  while (len >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);  // the tables assume little-endian loads (x86)
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
          t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

}  // namespace ringscope::trace

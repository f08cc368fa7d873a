// kvm_abi.h — the few KVM structures C++ cannot take from <linux/kvm.h>.
//
// The kernel headers declare flexible arrays with __DECLARE_FLEX_ARRAY,
// which in C++ adds an empty struct member of size 1: sizeof(kvm_cpuid2)
// becomes 12 instead of 8, which changes the ioctl numbers (they encode the
// size) and the offsets of the arrays. KVM then answers EINVAL. So the
// layouts below are spelled out with the C sizes, checked against the ABI.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace ringscope::kvm::abi {

// struct kvm_cpuid2 { u32 nent; u32 padding; struct kvm_cpuid_entry2 entries[]; }
inline constexpr size_t kCpuid2Header = 8;
// struct kvm_msrs { u32 nmsrs; u32 pad; struct kvm_msr_entry entries[]; }
inline constexpr size_t kMsrsHeader = 8;
// struct kvm_stats_desc { u32 flags; s16 exponent; u16 size; u32 offset; u32 bucket_size; char name[]; }
inline constexpr size_t kStatsDescHeader = 16;
struct StatsDesc {
  uint32_t flags;
  int16_t exponent;
  uint16_t size;
  uint32_t offset;
  uint32_t bucket_size;
};
static_assert(sizeof(StatsDesc) == kStatsDescHeader);
static_assert(sizeof(struct kvm_cpuid_entry2) == 40);
static_assert(sizeof(struct kvm_msr_entry) == 16);

inline constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, kCpuid2Header);
inline constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, kCpuid2Header);
inline constexpr unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, kMsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, kMsrsHeader);

}  // namespace ringscope::kvm::abi

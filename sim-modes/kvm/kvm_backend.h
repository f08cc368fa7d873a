// kvm_backend.h — full virtualisation on Linux KVM (mode `full-virt`).
#pragma once

#include "ringscope/backend.h"

namespace ringscope::kvm {

class KvmBackend final : public Backend {
 public:
  std::string_view name() const override { return "kvm"; }
  Result<RunResult> run(Machine& machine, EventSink& sink, const RunOptions& options) override;
};

}  // namespace ringscope::kvm

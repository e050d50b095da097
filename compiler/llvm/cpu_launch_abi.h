#pragma once
/// What the CPU backend adds to a kernel's argument slots at launch (llvm_backend.cpp), for the IR
/// emitters: the last slot, which no op's layout uses (fuse's 16 modalities end at slot 87).
#include "compiler/backend.h"

namespace robocache::cpu_launch_abi {

/// int64: 1 when every chunk of this launch runs on the calling thread, one after another (a
/// one-thread policy, or work within one grain), so a kernel may update shared memory without
/// atomic instructions; 0 when chunks may run on several threads at once.
inline constexpr int kSerialSlot = KernelArgs::kMaxSlots - 1;

}  // namespace robocache::cpu_launch_abi

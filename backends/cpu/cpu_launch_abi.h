#pragma once
/// What the CPU backend adds to a kernel's argument slots at launch (llvm_backend.cpp), for the IR
/// emitters: the last slots, which no op's layout uses (fuse's 16 modalities end at slot 87).
#include "compiler/backend.h"

namespace robocache::cpu_launch_abi {

/// int64: 1 when every chunk of this launch runs on the calling thread, one after another (a
/// one-thread policy, or work within one grain), so a kernel may update shared memory without
/// atomic instructions; 0 when chunks may run on several threads at once.
inline constexpr int kSerialSlot = KernelArgs::kMaxSlots - 1;

/// int64 owners P and owner k of a cell-partitioned voxelize scatter: P > 1 runs the scatter P
/// times at once, each over every point but updating only the cells [k*C/P, (k+1)*C/P) of the C
/// cells of all rows, with plain loads and stores (no two runs share a cell). 0 or 1: no partition.
inline constexpr int kOwnersSlot = KernelArgs::kMaxSlots - 2;
inline constexpr int kOwnerSlot = KernelArgs::kMaxSlots - 3;

/// The most owners a partitioned scatter uses: every owner reads every point, so beyond a few
/// threads atomic updates split over the points cost less.
inline constexpr int kMaxOwners = 8;

}  // namespace robocache::cpu_launch_abi

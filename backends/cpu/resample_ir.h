#pragma once
/// LLVM IR for ops.md §1 resample (every mode, channel groups, per-row lengths) and §2 fuse,
/// specialised on value dtype, time dtype, channel counts and modes.
#include <memory>
#include <string>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "compiler/spec.h"

namespace robocache::llvm_ir {

/// Symbol of the resample entry for spec, e.g. "robocache_resample_linear_f32_time_f64_d32", or
/// with groups "robocache_resample_g_linear3_slerp4_previous1_f32_time_f64_d8".
std::string resample_entry_name(const ResampleSpec& spec);

/// Builds a module defining `void entry(const uint64_t* slots, int64_t begin, int64_t end)` that
/// resamples work items [begin, end) (item w is row w / T, target w % T; slots per resample_abi.h).
/// The module carries `triple` and `data_layout`; it is not optimised.
std::unique_ptr<llvm::Module> build_resample_module(llvm::LLVMContext& ctx, const ResampleSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout);

/// Symbol of the fuse entry for spec, e.g. "robocache_fuse_f32_time_f64_linear3_slerp4".
std::string fuse_entry_name(const FuseSpec& spec);

/// Like build_resample_module, for fuse (slots per fuse_abi.h; item w is row w / T, target w % T).
std::unique_ptr<llvm::Module> build_fuse_module(llvm::LLVMContext& ctx, const FuseSpec& spec, const std::string& entry,
                                                const std::string& triple, const std::string& data_layout);

}  // namespace robocache::llvm_ir

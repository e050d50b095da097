#pragma once
/// LLVM IR for ops.md §1 resample (linear), specialised on value dtype, time dtype and channel count.
#include <memory>
#include <string>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "compiler/spec.h"

namespace robocache::llvm_ir {

/// Symbol of the entry function for spec, e.g. "robocache_resample_linear_f32_time_f64_d32".
std::string resample_entry_name(const ResampleSpec& spec);

/// Builds a module defining `void entry(const uint64_t* slots, int64_t begin, int64_t end)` that
/// resamples work items [begin, end) (item w is row w / T, target w % T; slots per resample_abi.h).
/// The module carries `triple` and `data_layout`; it is not optimised.
std::unique_ptr<llvm::Module> build_resample_module(llvm::LLVMContext& ctx, const ResampleSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout);

}  // namespace robocache::llvm_ir

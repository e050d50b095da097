#pragma once
/// LLVM IR for ops.md §3 voxelize, specialised on mode, coordinate dtype, output dtype and F.
#include <memory>
#include <string>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "compiler/spec.h"

namespace robocache::llvm_ir {

/// Symbol of the entry for spec, e.g. "robocache_voxelize_mean_f32_out_f32_f4".
std::string voxelize_entry_name(const VoxelizeSpec& spec);

/// True for the entry of a voxelize kernel whose scatter honours a cell partition (count, mean
/// and max: cpu_launch_abi.h's owner slots); occupancy stores are already race-free.
bool voxelize_entry_partitions_cells(const std::string& entry);

/// Builds a module defining `void entry(const uint64_t* slots, int64_t begin, int64_t end)` that
/// runs the phase in slot kPhase over work items [begin, end) (slots per voxelize_abi.h): clear
/// and finalize take item w as cell w of [B*X*Y*Z], scatter as point w of [B*N]. Scatter uses
/// atomic read-modify-writes, so chunks may run on several threads at once, except in a serial
/// launch (cpu_launch_abi.h's slot), which uses plain loads and stores.
std::unique_ptr<llvm::Module> build_voxelize_module(llvm::LLVMContext& ctx, const VoxelizeSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout);

}  // namespace robocache::llvm_ir

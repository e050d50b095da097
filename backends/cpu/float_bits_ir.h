#pragma once
/// f16 and bf16 conversions emitted as integer IR, so they are exact, vectorise, and need no libcall.
#include <llvm/IR/IRBuilder.h>

namespace robocache::llvm_ir {

/// Exact f16 (as i16 bits) → f32; NaN payloads keep their top bits.
llvm::Value* f16_bits_to_f32(llvm::IRBuilder<>& b, llvm::Value* bits);

/// f32 → f16 bits (i16), rounded to nearest even; overflow gives ±inf, NaN stays a quiet NaN.
llvm::Value* f32_to_f16_bits(llvm::IRBuilder<>& b, llvm::Value* value);

/// Exact bf16 (as i16 bits) → f32.
llvm::Value* bf16_bits_to_f32(llvm::IRBuilder<>& b, llvm::Value* bits);

/// f32 → bf16 bits (i16), rounded to nearest even; NaN stays a quiet NaN with its sign.
llvm::Value* f32_to_bf16_bits(llvm::IRBuilder<>& b, llvm::Value* value);

}  // namespace robocache::llvm_ir

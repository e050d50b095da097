#include "backends/cpu/float_bits_ir.h"

// Integer bit manipulation instead of `fpext half`/`fptrunc to half`: LLVM 14 lowers those to
// __gnu_h2f_ieee/__truncdfhf2 libcalls on hosts without F16C, which the JIT would have to
// resolve, and bf16 has no usable lowering at all. The formulas are F. Giesen's
// (https://gist.github.com/rygorous/2156668), which are exact and round to nearest even; the
// two float operations in them only ever see and produce normal numbers, so FTZ/DAZ modes of
// the calling thread cannot change a result.

// At most one IRBuilder call per argument list: C++ leaves the order of argument evaluation
// open, and the printed IR must not depend on the compiler that built the library.

namespace robocache::llvm_ir {

namespace {

llvm::Constant* u32(llvm::IRBuilder<>& b, std::uint32_t v) { return b.getInt32(v); }

}  // namespace

llvm::Value* f16_bits_to_f32(llvm::IRBuilder<>& b, llvm::Value* bits) {
  llvm::Type* f32 = b.getFloatTy();
  llvm::Value* h = b.CreateZExt(bits, b.getInt32Ty());
  // Exponent and mantissa moved into f32 position, exponent rebased from 15 to 127.
  llvm::Value* shifted = b.CreateShl(b.CreateAnd(h, u32(b, 0x7fff)), 13);
  llvm::Value* exp = b.CreateAnd(shifted, u32(b, 0x7c00u << 13));
  llvm::Value* normal = b.CreateAdd(shifted, u32(b, (127u - 15u) << 23));
  // Inf/NaN: push the exponent the rest of the way to 255.
  llvm::Value* inf_nan = b.CreateAdd(normal, u32(b, (128u - 16u) << 23));
  // Zero/subnormal: build 2^-14 * (1 + m) and subtract 2^-14, an exact renormalisation.
  llvm::Value* biased = b.CreateBitCast(b.CreateAdd(normal, u32(b, 1u << 23)), f32);
  llvm::Value* magic = llvm::ConstantFP::get(f32, llvm::APFloat(llvm::APFloat::IEEEsingle(), llvm::APInt(32, 113u << 23)));
  llvm::Value* subnormal = b.CreateBitCast(b.CreateFSub(biased, magic), b.getInt32Ty());
  llvm::Value* is_inf_nan = b.CreateICmpEQ(exp, u32(b, 0x7c00u << 13));
  llvm::Value* is_small = b.CreateICmpEQ(exp, u32(b, 0));
  llvm::Value* magnitude = b.CreateSelect(is_inf_nan, inf_nan, b.CreateSelect(is_small, subnormal, normal));
  llvm::Value* sign = b.CreateShl(b.CreateAnd(h, u32(b, 0x8000)), 16);
  return b.CreateBitCast(b.CreateOr(magnitude, sign), f32);
}

llvm::Value* f32_to_f16_bits(llvm::IRBuilder<>& b, llvm::Value* value) {
  llvm::Type* f32 = b.getFloatTy();
  llvm::Value* u = b.CreateBitCast(value, b.getInt32Ty());
  llvm::Value* sign = b.CreateAnd(u, u32(b, 0x80000000u));
  llvm::Value* a = b.CreateXor(u, sign);
  // |x| >= 65536: inf, or a quiet NaN keeping the payload's top bits (what F16C does).
  llvm::Value* payload = b.CreateAnd(b.CreateLShr(a, 13), u32(b, 0x3ff));
  llvm::Value* nan = b.CreateOr(payload, u32(b, 0x7e00));
  llvm::Value* big = b.CreateSelect(b.CreateICmpUGT(a, u32(b, 0x7f800000u)), nan, u32(b, 0x7c00));
  // |x| < 2^-14: adding 0.5 aligns the f16 subnormal mantissa at the bottom of the f32 one,
  // and the float adder does the round-to-nearest-even.
  llvm::Value* denorm_magic =
      llvm::ConstantFP::get(f32, llvm::APFloat(llvm::APFloat::IEEEsingle(), llvm::APInt(32, 126u << 23)));
  llvm::Value* sum = b.CreateBitCast(b.CreateFAdd(b.CreateBitCast(a, f32), denorm_magic), b.getInt32Ty());
  llvm::Value* small = b.CreateSub(sum, u32(b, 126u << 23));
  // Normal: rebias the exponent and round to nearest even by adding 0xfff plus the lowest kept bit.
  llvm::Value* odd = b.CreateAnd(b.CreateLShr(a, 13), u32(b, 1));
  llvm::Value* rounded = b.CreateAdd(b.CreateAdd(a, u32(b, ((15u - 127u) << 23) + 0xfffu)), odd);
  llvm::Value* normal = b.CreateLShr(rounded, 13);
  llvm::Value* is_big = b.CreateICmpUGE(a, u32(b, (127u + 16u) << 23));
  llvm::Value* is_small = b.CreateICmpULT(a, u32(b, 113u << 23));
  llvm::Value* magnitude = b.CreateSelect(is_big, big, b.CreateSelect(is_small, small, normal));
  llvm::Value* result = b.CreateOr(magnitude, b.CreateLShr(sign, 16));
  return b.CreateTrunc(result, b.getInt16Ty());
}

llvm::Value* bf16_bits_to_f32(llvm::IRBuilder<>& b, llvm::Value* bits) {
  llvm::Value* u = b.CreateShl(b.CreateZExt(bits, b.getInt32Ty()), 16);
  return b.CreateBitCast(u, b.getFloatTy());
}

llvm::Value* f32_to_bf16_bits(llvm::IRBuilder<>& b, llvm::Value* value) {
  llvm::Value* u = b.CreateBitCast(value, b.getInt32Ty());
  // Rounding a NaN by addition could carry into the exponent and make it inf; set the quiet bit instead.
  llvm::Value* is_nan = b.CreateICmpUGT(b.CreateAnd(u, u32(b, 0x7fffffffu)), u32(b, 0x7f800000u));
  llvm::Value* nan = b.CreateOr(b.CreateLShr(u, 16), u32(b, 0x40));
  llvm::Value* odd = b.CreateAnd(b.CreateLShr(u, 16), u32(b, 1));
  llvm::Value* rounded = b.CreateLShr(b.CreateAdd(b.CreateAdd(u, u32(b, 0x7fff)), odd), 16);
  return b.CreateTrunc(b.CreateSelect(is_nan, nan, rounded), b.getInt16Ty());
}

}  // namespace robocache::llvm_ir

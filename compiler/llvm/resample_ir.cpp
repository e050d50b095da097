#include "compiler/llvm/resample_ir.h"

#include <functional>
#include <stdexcept>

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include "compiler/llvm/float_bits_ir.h"
#include "compiler/resample_abi.h"

// Semantics are ops.md §1 `linear`, in an order of operations the CUDA template repeats so the
// two backends agree bit for bit: the weight is computed in the time dtype and rounded once to
// the blend type, the blend is one llvm.fma, and no instruction carries fast-math flags.
// Each argument list holds at most one IRBuilder call, because C++ leaves the order of argument
// evaluation open and the printed IR must not depend on the compiler that built the library.

namespace robocache::llvm_ir {

namespace {

using llvm::BasicBlock;
using llvm::IRBuilder;
using llvm::Value;

llvm::Type* float_type(llvm::LLVMContext& ctx, DType t) {
  switch (t) {
    case DType::F32: return llvm::Type::getFloatTy(ctx);
    case DType::F64: return llvm::Type::getDoubleTy(ctx);
    default: throw std::invalid_argument(fmt::format("resample IR: '{}' is not a time dtype", dtype_name(t)));
  }
}

// Emits one resample module. The work is split into an internal body function taking typed
// `noalias` pointers (so after inlining the vectoriser knows the output does not overlap the
// inputs and needs no runtime alias checks) and the C-ABI entry that unpacks the slots.
class ResampleEmitter {
 public:
  ResampleEmitter(llvm::Module& m, const ResampleSpec& spec) : m_(m), ctx_(m.getContext()), spec_(spec) {
    i64_ = llvm::Type::getInt64Ty(ctx_);
    time_ = float_type(ctx_, spec.time_dtype);
    switch (spec.dtype) {
      case DType::F16:
      case DType::BF16:
        storage_ = llvm::Type::getInt16Ty(ctx_);
        blend_ = llvm::Type::getFloatTy(ctx_);
        break;
      case DType::F32:
      case DType::F64:
        storage_ = float_type(ctx_, spec.dtype);
        blend_ = storage_;
        break;
      default:
        throw std::invalid_argument(fmt::format("resample IR: '{}' is not a value dtype", dtype_name(spec.dtype)));
    }
    dim_ = llvm::ConstantInt::get(i64_, spec.dim);
  }

  void emit(const std::string& entry) { emit_entry(entry, emit_body(entry + ".body")); }

 private:
  Value* c64(std::int64_t v) const { return llvm::ConstantInt::get(i64_, v); }

  // A value element in the blend type; f16/bf16 widen exactly.
  Value* load_value(IRBuilder<>& b, Value* ptr) const {
    Value* raw = b.CreateAlignedLoad(storage_, ptr, llvm::Align(m_.getDataLayout().getTypeStoreSize(storage_)));
    if (spec_.dtype == DType::F16) return f16_bits_to_f32(b, raw);
    if (spec_.dtype == DType::BF16) return bf16_bits_to_f32(b, raw);
    return raw;
  }

  void store_value(IRBuilder<>& b, Value* v, Value* ptr) const {
    if (spec_.dtype == DType::F16) v = f32_to_f16_bits(b, v);
    if (spec_.dtype == DType::BF16) v = f32_to_bf16_bits(b, v);
    store_raw(b, v, ptr);
  }

  void store_raw(IRBuilder<>& b, Value* v, Value* ptr) const {
    b.CreateAlignedStore(v, ptr, llvm::Align(m_.getDataLayout().getTypeStoreSize(storage_)));
  }

  // The quiet NaN a NaN target time produces, in storage form.
  llvm::Constant* nan_storage() const {
    if (spec_.dtype == DType::F16) return llvm::ConstantInt::get(storage_, 0x7e00);
    if (spec_.dtype == DType::BF16) return llvm::ConstantInt::get(storage_, 0x7fc0);
    return llvm::ConstantFP::getNaN(storage_);
  }

  // for (c = 0; c < D; ++c) body(c), then branch to `after`. D >= 1 is a constant, so this is
  // the loop the vectoriser and unroller specialise.
  void channel_loop(IRBuilder<>& b, const char* name, BasicBlock* after,
                    const std::function<void(Value* c)>& body) const {
    llvm::Function* f = b.GetInsertBlock()->getParent();
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* loop = BasicBlock::Create(ctx_, name, f);
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    llvm::PHINode* c = b.CreatePHI(i64_, 2, "c");
    c->addIncoming(c64(0), pre);
    body(c);
    Value* next = b.CreateAdd(c, c64(1), "c.next", true, true);
    c->addIncoming(next, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpEQ(next, dim_), after, loop);
  }

  // Converts the weight from the time dtype to the blend type (round to nearest, or exact).
  Value* weight_to_blend(IRBuilder<>& b, Value* a) const {
    if (time_ == blend_) return a;
    if (time_->isDoubleTy()) return b.CreateFPTrunc(a, blend_, "a.blend");
    return b.CreateFPExt(a, blend_, "a.blend");
  }

  llvm::Function* emit_body(const std::string& name) {
    llvm::Type* storage_ptr = storage_->getPointerTo();
    llvm::Type* time_ptr = time_->getPointerTo();
    auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_),
                                         {storage_ptr, time_ptr, time_ptr, storage_ptr, i64_, i64_, i64_, i64_, i64_, i64_},
                                         false);
    auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::AlwaysInline);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    for (unsigned i = 0; i < 4; ++i) {
      f->addParamAttr(i, llvm::Attribute::NoAlias);
      f->addParamAttr(i, llvm::Attribute::NoCapture);
      if (i < 3) f->addParamAttr(i, llvm::Attribute::ReadOnly);
    }
    const char* names[] = {"data", "src_times", "tgt_times", "out", "S", "T", "src_stride", "tgt_stride", "begin", "end"};
    for (unsigned i = 0; i < 10; ++i) f->getArg(i)->setName(names[i]);
    Value* data = f->getArg(0);
    Value* src = f->getArg(1);
    Value* tgt = f->getArg(2);
    Value* out = f->getArg(3);
    Value* S = f->getArg(4);
    Value* T = f->getArg(5);
    Value* src_stride = f->getArg(6);
    Value* tgt_stride = f->getArg(7);
    Value* begin = f->getArg(8);
    Value* end = f->getArg(9);

    auto block = [&](const char* n) { return BasicBlock::Create(ctx_, n, f); };
    BasicBlock* entry = block("entry");
    BasicBlock* start = block("start");
    BasicBlock* item = block("item");
    BasicBlock* check_first = block("check_first");
    BasicBlock* check_last = block("check_last");
    BasicBlock* search_head = block("search_head");
    BasicBlock* search_step = block("search_step");
    BasicBlock* weigh = block("weigh");
    BasicBlock* blend = block("blend");
    BasicBlock* hold = block("hold");
    BasicBlock* nan_fill = block("nan_fill");
    BasicBlock* next = block("next");
    BasicBlock* exit = block("exit");

    IRBuilder<> b(entry);
    // Empty ranges and S = 0 return without touching memory; S = 0 is rejected before launch,
    // this only keeps a bad launch from reading t[-1].
    Value* nonempty = b.CreateICmpSLT(begin, end);
    Value* has_sources = b.CreateICmpSGT(S, c64(0));
    Value* has_targets = b.CreateICmpSGT(T, c64(0));
    Value* ok = b.CreateAnd(nonempty, b.CreateAnd(has_sources, has_targets));
    b.CreateCondBr(ok, start, exit);

    b.SetInsertPoint(start);
    // One division per task, not per item: later items step (b, t) incrementally.
    Value* b0 = b.CreateSDiv(begin, T, "b0");
    Value* t0 = b.CreateSRem(begin, T, "t0");
    Value* last = b.CreateSub(S, c64(1), "last");
    b.CreateBr(item);

    b.SetInsertPoint(item);
    llvm::PHINode* w = b.CreatePHI(i64_, 2, "w");
    llvm::PHINode* row = b.CreatePHI(i64_, 2, "b");
    llvm::PHINode* t = b.CreatePHI(i64_, 2, "t");
    w->addIncoming(begin, start);
    row->addIncoming(b0, start);
    t->addIncoming(t0, start);
    Value* src_row = b.CreateInBoundsGEP(time_, src, b.CreateNSWMul(row, src_stride), "src_row");
    Value* x = b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, tgt, b.CreateNSWAdd(b.CreateNSWMul(row, tgt_stride), t)),
                                   llvm::Align(time_->getPrimitiveSizeInBits() / 8), "x");
    Value* data_row = b.CreateInBoundsGEP(storage_, data, b.CreateNSWMul(b.CreateNSWMul(row, S), dim_), "data_row");
    Value* out_row = b.CreateInBoundsGEP(storage_, out, b.CreateNSWMul(w, dim_), "out_row");
    auto load_time = [&](Value* index, const char* n) {
      return b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, src_row, index),
                                 llvm::Align(time_->getPrimitiveSizeInBits() / 8), n);
    };
    b.CreateCondBr(b.CreateFCmpUNO(x, x, "x_is_nan"), nan_fill, check_first);

    b.SetInsertPoint(check_first);
    Value* t_first = load_time(c64(0), "t_first");
    b.CreateCondBr(b.CreateFCmpOLE(x, t_first), hold, check_last);

    b.SetInsertPoint(check_last);
    Value* t_last = load_time(last, "t_last");
    b.CreateCondBr(b.CreateFCmpOGE(x, t_last), hold, search_head);

    // Binary search keeping t[lo] <= x < t[hi]; it ends with hi = lo + 1, so lo is the largest
    // index with t[lo] <= x even across repeated timestamps.
    b.SetInsertPoint(search_head);
    llvm::PHINode* lo = b.CreatePHI(i64_, 2, "lo");
    llvm::PHINode* hi = b.CreatePHI(i64_, 2, "hi");
    lo->addIncoming(c64(0), check_last);
    hi->addIncoming(last, check_last);
    b.CreateCondBr(b.CreateICmpSGT(b.CreateSub(hi, lo), c64(1)), search_step, weigh);

    b.SetInsertPoint(search_step);
    Value* mid = b.CreateAdd(lo, b.CreateLShr(b.CreateSub(hi, lo), 1), "mid");
    Value* at_or_before = b.CreateFCmpOLE(load_time(mid, "t_mid"), x);
    lo->addIncoming(b.CreateSelect(at_or_before, mid, lo), search_step);
    hi->addIncoming(b.CreateSelect(at_or_before, hi, mid), search_step);
    b.CreateBr(search_head);

    b.SetInsertPoint(weigh);
    Value* t_l = load_time(lo, "t_l");
    Value* t_r = load_time(hi, "t_r");
    Value* offset = b.CreateFSub(x, t_l, "x_minus_t_l");
    Value* span = b.CreateFSub(t_r, t_l, "t_r_minus_t_l");
    Value* a_time = b.CreateFDiv(offset, span, "a");
    Value* a = weight_to_blend(b, a_time);
    // A zero weight (an exact hit, or one too small for the blend type) copies v[l]: fma(0, d, v)
    // would turn -0 into +0 and an infinite neighbour into NaN.
    b.CreateCondBr(b.CreateFCmpOEQ(a, llvm::ConstantFP::get(blend_, 0.0)), hold, blend);

    b.SetInsertPoint(blend);
    llvm::Function* fma = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::fma, {blend_});
    Value* v_l_row = b.CreateInBoundsGEP(storage_, data_row, b.CreateNSWMul(lo, dim_), "v_l");
    Value* v_r_row = b.CreateInBoundsGEP(storage_, v_l_row, dim_, "v_r");
    channel_loop(b, "blend_channel", next, [&](Value* c) {
      Value* v_l = load_value(b, b.CreateInBoundsGEP(storage_, v_l_row, c));
      Value* v_r = load_value(b, b.CreateInBoundsGEP(storage_, v_r_row, c));
      Value* blended = b.CreateCall(fma, {a, b.CreateFSub(v_r, v_l), v_l});
      store_value(b, blended, b.CreateInBoundsGEP(storage_, out_row, c));
    });

    // Holds copy storage bits, so held and exactly hit samples come out bit for bit.
    b.SetInsertPoint(hold);
    llvm::PHINode* held = b.CreatePHI(i64_, 3, "held");
    held->addIncoming(c64(0), check_first);
    held->addIncoming(last, check_last);
    held->addIncoming(lo, weigh);
    Value* held_row = b.CreateInBoundsGEP(storage_, data_row, b.CreateNSWMul(held, dim_), "v_held");
    channel_loop(b, "hold_channel", next, [&](Value* c) {
      Value* v = b.CreateAlignedLoad(storage_, b.CreateInBoundsGEP(storage_, held_row, c),
                                     llvm::Align(m_.getDataLayout().getTypeStoreSize(storage_)));
      store_raw(b, v, b.CreateInBoundsGEP(storage_, out_row, c));
    });

    b.SetInsertPoint(nan_fill);
    channel_loop(b, "nan_channel", next,
                 [&](Value* c) { store_raw(b, nan_storage(), b.CreateInBoundsGEP(storage_, out_row, c)); });

    b.SetInsertPoint(next);
    Value* w_next = b.CreateNSWAdd(w, c64(1), "w.next");
    Value* t_inc = b.CreateNSWAdd(t, c64(1));
    Value* wrap = b.CreateICmpEQ(t_inc, T);
    w->addIncoming(w_next, next);
    t->addIncoming(b.CreateSelect(wrap, c64(0), t_inc), next);
    row->addIncoming(b.CreateSelect(wrap, b.CreateNSWAdd(row, c64(1)), row), next);
    b.CreateCondBr(b.CreateICmpSLT(w_next, end), item, exit);

    b.SetInsertPoint(exit);
    b.CreateRetVoid();
    return f;
  }

  void emit_entry(const std::string& name, llvm::Function* body) {
    llvm::Type* slot_ptr = i64_->getPointerTo();
    auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {slot_ptr, i64_, i64_}, false);
    auto* f = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    f->addParamAttr(0, llvm::Attribute::ReadOnly);
    f->addParamAttr(0, llvm::Attribute::NoCapture);
    f->getArg(0)->setName("slots");
    f->getArg(1)->setName("begin");
    f->getArg(2)->setName("end");
    IRBuilder<> b(BasicBlock::Create(ctx_, "entry", f));
    auto slot = [&](int i) {
      return b.CreateAlignedLoad(i64_, b.CreateInBoundsGEP(i64_, f->getArg(0), c64(i)), llvm::Align(8));
    };
    namespace abi = resample_abi;
    auto pointer = [&](int i, llvm::Type* element) { return b.CreateIntToPtr(slot(i), element->getPointerTo()); };
    b.CreateCall(body, {pointer(abi::kData, storage_), pointer(abi::kSrcTimes, time_), pointer(abi::kTgtTimes, time_),
                        pointer(abi::kOut, storage_), slot(abi::kS), slot(abi::kT), slot(abi::kSrcRowStride),
                        slot(abi::kTgtRowStride), f->getArg(1), f->getArg(2)});
    b.CreateRetVoid();
  }

  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  ResampleSpec spec_;
  llvm::Type* i64_ = nullptr;
  llvm::Type* time_ = nullptr;
  llvm::Type* storage_ = nullptr;
  llvm::Type* blend_ = nullptr;
  llvm::Value* dim_ = nullptr;
};

}  // namespace

std::string resample_entry_name(const ResampleSpec& spec) {
  return fmt::format("robocache_resample_{}_{}_time_{}_d{}", interp_name(spec.interp), dtype_name(spec.dtype),
                     dtype_name(spec.time_dtype), spec.dim);
}

std::unique_ptr<llvm::Module> build_resample_module(llvm::LLVMContext& ctx, const ResampleSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout) {
  auto m = std::make_unique<llvm::Module>(entry, ctx);
  m->setTargetTriple(triple);
  m->setDataLayout(data_layout);
  ResampleEmitter(*m, spec).emit(entry);
  return m;
}

}  // namespace robocache::llvm_ir

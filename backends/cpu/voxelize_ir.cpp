#include "backends/cpu/voxelize_ir.h"

#include <functional>
#include <stdexcept>

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include "backends/cpu/cpu_launch_abi.h"
#include "compiler/voxelize_abi.h"

// ops.md §3 and voxelize_abi.h. Voxel indices: grid_min and voxel_size (double bits) are first
// converted to the coordinate dtype, then i = floor((p - grid_min) / voxel_size) in that dtype,
// no fast-math. The range test happens on the floored float (so NaN and ±inf fail it) before any
// float→int conversion. Scatter updates are atomic (monotonic) unless the launch is serial
// (cpu_launch_abi.h), when they are the same updates as plain loads and stores: occupancy an atomic store of 1,
// count and counts an atomicrmw add, mean an atomicrmw fadd, max a compare-exchange loop from a
// NaN start that replaces when the feature is not NaN and the current value is NaN or smaller, or
// is -0 where the feature is +0 (a NaN feature never wins, like fmax, and a channel whose features
// are all NaN stays NaN).
// At most one IRBuilder call per argument list, so the printed IR does not depend on the C++
// compiler's argument evaluation order.

namespace robocache::llvm_ir {

namespace {

using llvm::BasicBlock;
using llvm::IRBuilder;
using llvm::Value;
namespace abi = voxelize_abi;

class VoxelizeEmitter {
 public:
  VoxelizeEmitter(llvm::Module& m, const VoxelizeSpec& spec) : m_(m), ctx_(m.getContext()), spec_(spec) {
    i64_ = llvm::Type::getInt64Ty(ctx_);
    i32_ = llvm::Type::getInt32Ty(ctx_);
    switch (spec.coord_dtype) {
      case DType::F32: coord_ = llvm::Type::getFloatTy(ctx_); break;
      case DType::F64: coord_ = llvm::Type::getDoubleTy(ctx_); break;
      default: throw std::invalid_argument(fmt::format("voxelize IR: '{}' is not a coordinate dtype", dtype_name(spec.coord_dtype)));
    }
    switch (spec.out_dtype) {
      case DType::F32: out_ = llvm::Type::getFloatTy(ctx_); out_bits_ = i32_; break;
      case DType::F64: out_ = llvm::Type::getDoubleTy(ctx_); out_bits_ = i64_; break;
      case DType::I32: out_ = i32_; out_bits_ = i32_; break;
      case DType::U8: out_ = llvm::Type::getInt8Ty(ctx_); out_bits_ = out_; break;
      default: throw std::invalid_argument(fmt::format("voxelize IR: '{}' is not an output dtype", dtype_name(spec.out_dtype)));
    }
    feature_mode_ = spec.mode == VoxelMode::Mean || spec.mode == VoxelMode::Max;
    if (feature_mode_ && !out_->isFloatingPointTy())
      throw std::invalid_argument("voxelize IR: mean and max need a float output dtype");
    if (spec.mode == VoxelMode::Count && spec.out_dtype != DType::I32)
      throw std::invalid_argument("voxelize IR: count needs an int32 output");
    if (feature_mode_ && spec.features < 1) throw std::invalid_argument("voxelize IR: mean and max need features >= 1");
    channels_ = feature_mode_ ? spec.features : 1;
  }

  void emit(const std::string& name) {
    llvm::Type* slot_ptr = i64_->getPointerTo();
    auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {slot_ptr, i64_, i64_}, false);
    f_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m_);
    f_->addFnAttr(llvm::Attribute::NoUnwind);
    f_->addParamAttr(0, llvm::Attribute::ReadOnly);
    f_->addParamAttr(0, llvm::Attribute::NoCapture);
    f_->getArg(0)->setName("slots");
    f_->getArg(1)->setName("begin");
    f_->getArg(2)->setName("end");
    Value* begin = f_->getArg(1);
    Value* end = f_->getArg(2);
    BasicBlock* entry = block("entry");
    BasicBlock* exit = block("exit");
    IRBuilder<> b(entry);
    auto slot = [&](int i) {
      return b.CreateAlignedLoad(i64_, b.CreateInBoundsGEP(i64_, f_->getArg(0), c64(i)), llvm::Align(8));
    };
    auto pointer = [&](int i, llvm::Type* element) { return b.CreateIntToPtr(slot(i), element->getPointerTo()); };
    auto real = [&](int i) {
      Value* bits = slot(i);
      Value* d = b.CreateBitCast(bits, llvm::Type::getDoubleTy(ctx_));
      return coord_->isDoubleTy() ? d : b.CreateFPTrunc(d, coord_);
    };
    points_ = pointer(abi::kPoints, coord_);
    features_ = pointer(abi::kFeatures, out_);
    lengths_ = pointer(abi::kLengths, i64_);
    out_ptr_ = pointer(abi::kOut, out_);
    counts_ = pointer(abi::kCounts, i32_);
    N_ = slot(abi::kN);
    for (int a = 0; a < 3; ++a) {
      gmin_[a] = real(abi::kGridMinX + a);
      vs_[a] = real(abi::kVoxelSizeX + a);
      shape_[a] = slot(abi::kShapeX + a);
    }
    Value* phase = slot(abi::kPhase);
    Value* nonempty = b.CreateICmpSLT(begin, end);
    BasicBlock* dispatch = block("dispatch");
    b.CreateCondBr(nonempty, dispatch, exit);
    b.SetInsertPoint(dispatch);
    BasicBlock* clear = block("clear");
    BasicBlock* scatter = block("scatter");
    BasicBlock* finalize = block("finalize");
    llvm::SwitchInst* sw = b.CreateSwitch(phase, exit, 3);
    sw->addCase(llvm::ConstantInt::get(llvm::cast<llvm::IntegerType>(i64_), abi::kClear), clear);
    sw->addCase(llvm::ConstantInt::get(llvm::cast<llvm::IntegerType>(i64_), abi::kScatter), scatter);
    if (feature_mode_) sw->addCase(llvm::ConstantInt::get(llvm::cast<llvm::IntegerType>(i64_), abi::kFinalize), finalize);

    b.SetInsertPoint(clear);
    loop(b, "clear", begin, end, exit, [&](Value* w) { emit_clear(b, w); });

    b.SetInsertPoint(scatter);
    BasicBlock* scatter_go = block("scatter.go");
    Value* has_points = b.CreateICmpSGT(N_, c64(0));
    b.CreateCondBr(has_points, scatter_go, exit);
    b.SetInsertPoint(scatter_go);
    Value* xy = b.CreateNSWMul(shape_[0], shape_[1]);
    cells_ = b.CreateNSWMul(xy, shape_[2], "cells");
    // A serial launch (cpu_launch_abi.h) updates cells with plain loads and stores: a lock-prefixed
    // add costs ~20 cycles a point even uncontended. Same updates in the same order, so the
    // results are the same bits (mean's sums too: one thread adds in point order either way).
    Value* serial = b.CreateICmpNE(slot(cpu_launch_abi::kSerialSlot), c64(0), "serial");
    // A cell-partitioned launch (cpu_launch_abi.h): this run updates cells [owned_lo, owned_hi) only.
    Value* owners = slot(cpu_launch_abi::kOwnersSlot);
    Value* owner = slot(cpu_launch_abi::kOwnerSlot);
    Value* all_cells = b.CreateNSWMul(slot(abi::kB), cells_, "all_cells");
    Value* partitioned = b.CreateICmpSGT(owners, c64(1), "partitioned");
    Value* safe_owners = b.CreateSelect(partitioned, owners, c64(1));
    Value* lo = b.CreateSDiv(b.CreateNSWMul(owner, all_cells), safe_owners);
    Value* owner_next = b.CreateNSWAdd(owner, c64(1));
    Value* hi = b.CreateSDiv(b.CreateNSWMul(owner_next, all_cells), safe_owners);
    owned_lo_ = b.CreateSelect(partitioned, lo, c64(0), "owned_lo");
    owned_hi_ = b.CreateSelect(partitioned, hi, all_cells, "owned_hi");
    BasicBlock* scatter_serial = block("scatter.serial");
    BasicBlock* scatter_atomic = block("scatter.atomic");
    b.CreateCondBr(serial, scatter_serial, scatter_atomic);
    b.SetInsertPoint(scatter_serial);
    atomic_ = false;
    scatter_loop(b, "scatter_plain", begin, end, exit);
    b.SetInsertPoint(scatter_atomic);
    atomic_ = true;
    scatter_loop(b, "scatter", begin, end, exit);

    b.SetInsertPoint(finalize);
    if (feature_mode_)
      loop(b, "finalize", begin, end, exit, [&](Value* w) { emit_finalize(b, w); });
    else
      b.CreateBr(exit);

    b.SetInsertPoint(exit);
    b.CreateRetVoid();
  }

 private:
  Value* c64(std::int64_t v) const { return llvm::ConstantInt::get(i64_, v); }
  BasicBlock* block(const std::string& n) const { return BasicBlock::Create(ctx_, n, f_); }
  llvm::Align out_align() const { return llvm::Align(m_.getDataLayout().getTypeStoreSize(out_)); }

  // for (i = first; i < last; ++i) body(i) (first < last), then branch to `after`; the body may add blocks.
  void loop(IRBuilder<>& b, const std::string& name, Value* first, Value* last, BasicBlock* after,
            const std::function<void(Value* i)>& body, bool vectorize = false) const {
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* head = block(name);
    b.CreateBr(head);
    b.SetInsertPoint(head);
    llvm::PHINode* i = b.CreatePHI(i64_, 2, name + ".i");
    i->addIncoming(first, pre);
    body(i);
    Value* next = b.CreateAdd(i, c64(1), name + ".next", true, true);
    i->addIncoming(next, b.GetInsertBlock());
    Value* done = b.CreateICmpEQ(next, last);
    llvm::BranchInst* latch = b.CreateCondBr(done, after, head);
    if (vectorize) {
      llvm::Metadata* enable[] = {llvm::MDString::get(ctx_, "llvm.loop.vectorize.enable"),
                                  llvm::ConstantAsMetadata::get(llvm::ConstantInt::getTrue(ctx_))};
      llvm::TempMDTuple self = llvm::MDNode::getTemporary(ctx_, llvm::None);
      llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx_, {self.get(), llvm::MDNode::get(ctx_, enable)});
      loop_id->replaceOperandWith(0, loop_id);
      latch->setMetadata(llvm::LLVMContext::MD_loop, loop_id);
    }
  }

  // Channel loop over [0, channels_) inside a work item, continuing in a fresh block.
  void channels(IRBuilder<>& b, const std::string& name, const std::function<void(Value* c)>& body) const {
    BasicBlock* after = block(name + ".done");
    loop(b, name, c64(0), c64(channels_), after, body);
    b.SetInsertPoint(after);
  }

  void emit_clear(IRBuilder<>& b, Value* w) {
    llvm::Constant* init = spec_.mode == VoxelMode::Max ? llvm::ConstantFP::getNaN(out_)
                                                        : llvm::Constant::getNullValue(out_);
    Value* cell = b.CreateInBoundsGEP(out_, out_ptr_, b.CreateNSWMul(w, c64(channels_)), "cell");
    channels(b, "clear_channel", [&](Value* c) { b.CreateAlignedStore(init, b.CreateInBoundsGEP(out_, cell, c), out_align()); });
    if (feature_mode_)
      b.CreateAlignedStore(llvm::ConstantInt::get(i32_, 0), b.CreateInBoundsGEP(i32_, counts_, w), llvm::Align(4));
  }

  // Voxel index along one axis and whether it lies in [0, shape).
  std::pair<Value*, Value*> axis_index(IRBuilder<>& b, Value* p, int a) {
    Value* rel = b.CreateFSub(p, gmin_[a]);
    Value* q = b.CreateFDiv(rel, vs_[a]);
    llvm::Function* floor = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::floor, {coord_});
    Value* fi = b.CreateCall(floor, {q});
    // Ordered compares: NaN fails. 2^62 keeps the conversion in range (no poison).
    Value* non_negative = b.CreateFCmpOGE(fi, llvm::ConstantFP::get(coord_, 0.0));
    Value* not_huge = b.CreateFCmpOLT(fi, llvm::ConstantFP::get(coord_, 4611686018427387904.0));
    Value* convertible = b.CreateAnd(non_negative, not_huge);
    Value* safe = b.CreateSelect(convertible, fi, llvm::ConstantFP::get(coord_, 0.0));
    Value* index = b.CreateFPToSI(safe, i64_);
    Value* below_shape = b.CreateICmpSLT(index, shape_[a]);
    Value* inside = b.CreateSelect(convertible, below_shape, b.getFalse());
    return {index, inside};
  }

  // The scatter over points [first, last) (first < last), then `after`, in segments of at most
  // kBlock points of one batch row: first every point's cell (or -1 when it is dropped) into a
  // small buffer, a branch-free loop the vectoriser turns into SIMD code (the divisions, floors
  // and range tests of 16 points at once), then the updates in point order. Rows and lengths are
  // handled per segment, so neither costs a division or a load per point.
  static constexpr std::int64_t kBlock = 64;

  void scatter_loop(IRBuilder<>& b, const std::string& name, Value* first, Value* last, BasicBlock* after) {
    if (!cell_buffer_) {
      IRBuilder<> eb(&f_->getEntryBlock(), f_->getEntryBlock().begin());
      cell_buffer_ = eb.CreateAlloca(i64_, c64(kBlock), "cells.buffer");
    }
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* seg = block(name + ".segment");
    BasicBlock* load_length = block(name + ".load_length");
    BasicBlock* have_length = block(name + ".have_length");
    BasicBlock* compute = block(name + ".compute");
    BasicBlock* apply = block(name + ".apply");
    BasicBlock* latch = block(name + ".latch");
    b.CreateBr(seg);

    b.SetInsertPoint(seg);
    llvm::PHINode* w = b.CreatePHI(i64_, 2, name + ".w");
    w->addIncoming(first, pre);
    Value* row = b.CreateSDiv(w, N_, "row");
    Value* row_start = b.CreateNSWMul(row, N_, "row_start");
    Value* row_end = b.CreateNSWAdd(row_start, N_, "row_end");
    Value* no_lengths = b.CreateICmpEQ(lengths_, llvm::ConstantPointerNull::get(i64_->getPointerTo()));
    b.CreateCondBr(no_lengths, have_length, load_length);

    b.SetInsertPoint(load_length);
    Value* given = b.CreateAlignedLoad(i64_, b.CreateInBoundsGEP(i64_, lengths_, row), llvm::Align(8), "L");
    Value* non_negative = b.CreateSelect(b.CreateICmpSLT(given, c64(0)), c64(0), given);
    Value* L = b.CreateSelect(b.CreateICmpSGT(non_negative, N_), N_, non_negative);
    b.CreateBr(have_length);

    b.SetInsertPoint(have_length);
    llvm::PHINode* valid_count = b.CreatePHI(i64_, 2, "valid_count");
    valid_count->addIncoming(N_, seg);
    valid_count->addIncoming(L, load_length);
    Value* block_end = b.CreateNSWAdd(w, c64(kBlock));
    Value* seg_end = b.CreateSelect(b.CreateICmpSLT(block_end, last), block_end, last);
    seg_end = b.CreateSelect(b.CreateICmpSLT(seg_end, row_end), seg_end, row_end, "seg_end");
    Value* valid_end = b.CreateNSWAdd(row_start, valid_count);
    Value* stop = b.CreateSelect(b.CreateICmpSLT(seg_end, valid_end), seg_end, valid_end, "stop");
    Value* count = b.CreateSub(stop, w, "count");
    b.CreateCondBr(b.CreateICmpSGT(count, c64(0)), compute, latch);

    b.SetInsertPoint(compute);
    Value* row_cells = b.CreateNSWMul(row, cells_, "row_cells");
    loop(b, name + ".cell", c64(0), count, apply, [&](Value* i) {
      Value* point = b.CreateNSWAdd(w, i);
      Value* cell = emit_cell(b, point);
      b.CreateAlignedStore(cell, b.CreateInBoundsGEP(i64_, cell_buffer_, i), llvm::Align(8));
    }, /*vectorize=*/true);

    b.SetInsertPoint(apply);
    loop(b, name + ".update", c64(0), count, latch, [&](Value* i) {
      BasicBlock* update = block(name + ".update_cell");
      BasicBlock* skip = block(name + ".skip");
      Value* local = b.CreateAlignedLoad(i64_, b.CreateInBoundsGEP(i64_, cell_buffer_, i), llvm::Align(8), "local");
      Value* cell = b.CreateNSWAdd(row_cells, local, "cell");
      Value* kept = b.CreateICmpSGE(local, c64(0));
      if (!atomic_) {  // a partitioned run keeps its own cells only
        Value* mine = b.CreateAnd(b.CreateICmpSGE(cell, owned_lo_), b.CreateICmpSLT(cell, owned_hi_));
        kept = b.CreateAnd(kept, mine);
      }
      b.CreateCondBr(kept, update, skip);
      b.SetInsertPoint(update);
      Value* point = b.CreateNSWAdd(w, i);
      emit_update(b, point, cell);
      b.CreateBr(skip);
      b.SetInsertPoint(skip);
    });

    b.SetInsertPoint(latch);
    w->addIncoming(seg_end, latch);
    b.CreateCondBr(b.CreateICmpSGE(seg_end, last), after, seg);
  }

  // Point w's cell within its row's grid, or -1 when any index is outside or any coordinate NaN.
  // Selects only, so a loop of these vectorises.
  Value* emit_cell(IRBuilder<>& b, Value* w) {
    Value* p = b.CreateInBoundsGEP(coord_, points_, b.CreateNSWMul(w, c64(3)), "p");
    Value* idx[3];
    Value* inside = nullptr;
    for (int a = 0; a < 3; ++a) {
      Value* coord = b.CreateAlignedLoad(coord_, b.CreateInBoundsGEP(coord_, p, c64(a)),
                                         llvm::Align(coord_->getPrimitiveSizeInBits() / 8));
      auto [i, in] = axis_index(b, coord, a);
      idx[a] = i;
      inside = inside ? b.CreateAnd(inside, in) : in;
    }
    Value* iy = b.CreateNSWAdd(b.CreateNSWMul(idx[0], shape_[1]), idx[1]);
    Value* local = b.CreateNSWAdd(b.CreateNSWMul(iy, shape_[2]), idx[2]);
    return b.CreateSelect(inside, local, c64(-1), "local_cell");
  }

  // The update of point w into `cell` (flat over [B, X, Y, Z]).
  void emit_update(IRBuilder<>& b, Value* w, Value* cell) {
    auto order = llvm::AtomicOrdering::Monotonic;
    switch (spec_.mode) {
      case VoxelMode::Occupancy: {
        if (!atomic_) {
          llvm::Constant* one = out_->isIntegerTy() ? llvm::ConstantInt::get(out_, 1) : llvm::ConstantFP::get(out_, 1.0);
          b.CreateAlignedStore(one, b.CreateInBoundsGEP(out_, out_ptr_, cell), out_align());
          break;
        }
        llvm::Constant* one = out_->isIntegerTy() ? llvm::ConstantInt::get(out_, 1)
                                                  : llvm::ConstantExpr::getBitCast(llvm::ConstantFP::get(out_, 1.0), out_bits_);
        Value* target = b.CreateInBoundsGEP(out_, out_ptr_, cell);
        Value* as_bits = b.CreateBitCast(target, out_bits_->getPointerTo());
        llvm::StoreInst* st = b.CreateAlignedStore(one, as_bits, out_align());
        st->setAtomic(order);
        break;
      }
      case VoxelMode::Count:
        increment(b, b.CreateInBoundsGEP(i32_, out_ptr_, cell));
        break;
      case VoxelMode::Mean:
      case VoxelMode::Max: {
        Value* feats = b.CreateInBoundsGEP(out_, features_, b.CreateNSWMul(w, c64(channels_)), "feats");
        Value* dst = b.CreateInBoundsGEP(out_, out_ptr_, b.CreateNSWMul(cell, c64(channels_)), "dst");
        channels(b, spec_.mode == VoxelMode::Mean ? "sum_channel" : "max_channel", [&](Value* c) {
          Value* v = b.CreateAlignedLoad(out_, b.CreateInBoundsGEP(out_, feats, c), out_align(), "feature");
          Value* target = b.CreateInBoundsGEP(out_, dst, c);
          if (spec_.mode == VoxelMode::Mean && atomic_) {
            b.CreateAtomicRMW(llvm::AtomicRMWInst::FAdd, target, v, out_align(), order);
          } else if (spec_.mode == VoxelMode::Mean) {
            Value* sum = b.CreateAlignedLoad(out_, target, out_align(), "sum");
            Value* added = b.CreateFAdd(sum, v);
            b.CreateAlignedStore(added, target, out_align());
          } else if (atomic_) {
            atomic_max(b, target, v);
          } else {
            plain_max(b, target, v);
          }
        });
        increment(b, b.CreateInBoundsGEP(i32_, counts_, cell));
        break;
      }
    }
  }

  // *target += 1 (int32): atomic, or a plain load and store in a serial launch.
  void increment(IRBuilder<>& b, Value* target) {
    llvm::Constant* one = llvm::ConstantInt::get(i32_, 1);
    if (atomic_) {
      b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, target, one, llvm::MaybeAlign(4), llvm::AtomicOrdering::Monotonic);
      return;
    }
    Value* old = b.CreateAlignedLoad(i32_, target, llvm::Align(4), "count");
    Value* sum = b.CreateAdd(old, one);
    b.CreateAlignedStore(sum, target, llvm::Align(4));
  }

  // Whether v replaces cur in a max: v is a number and cur is NaN (the cleared state) or smaller,
  // or they are zeros and only cur is -0 (+0 wins whatever the order, as the CUDA backend's
  // integer keys order them). A NaN v never writes.
  Value* max_wins(IRBuilder<>& b, Value* v, Value* cur) {
    Value* v_is_number = b.CreateFCmpORD(v, v, "v_is_number");
    Value* unordered_or_greater = b.CreateFCmpUGT(v, cur);
    llvm::Constant* zero_bits = llvm::ConstantInt::get(out_bits_, 0);
    Value* cur_negative = b.CreateICmpSLT(b.CreateBitCast(cur, out_bits_), zero_bits);
    Value* v_positive = b.CreateICmpSGE(b.CreateBitCast(v, out_bits_), zero_bits);
    Value* equal = b.CreateFCmpOEQ(v, cur);
    Value* sign_tie = b.CreateAnd(cur_negative, v_positive);
    Value* plus_over_minus_zero = b.CreateAnd(equal, sign_tie);
    Value* wins = b.CreateOr(unordered_or_greater, plus_over_minus_zero);
    return b.CreateAnd(v_is_number, wins, "max_wins");
  }

  // atomic_max's rule without the compare-exchange.
  void plain_max(IRBuilder<>& b, Value* target, Value* v) {
    Value* cur = b.CreateAlignedLoad(out_, target, out_align(), "cur");
    Value* result = b.CreateSelect(max_wins(b, v, cur), v, cur, "max");
    b.CreateAlignedStore(result, target, out_align());
  }

  // *target = max(*target, v) with a compare-exchange loop on the bits, by max_wins' rule.
  void atomic_max(IRBuilder<>& b, Value* target, Value* v) {
    auto order = llvm::AtomicOrdering::Monotonic;
    Value* bits_ptr = b.CreateBitCast(target, out_bits_->getPointerTo());
    Value* new_bits = b.CreateBitCast(v, out_bits_);
    llvm::LoadInst* first = b.CreateAlignedLoad(out_bits_, bits_ptr, out_align(), "cur0");
    first->setAtomic(order);
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* head = block("max.head");
    BasicBlock* attempt = block("max.try");
    BasicBlock* done = block("max.done");
    b.CreateBr(head);
    b.SetInsertPoint(head);
    llvm::PHINode* cur = b.CreatePHI(out_bits_, 2, "cur");
    cur->addIncoming(first, pre);
    Value* cur_f = b.CreateBitCast(cur, out_);
    b.CreateCondBr(max_wins(b, v, cur_f), attempt, done);
    b.SetInsertPoint(attempt);
    Value* pair = b.CreateAtomicCmpXchg(bits_ptr, cur, new_bits, out_align(), order, order);
    Value* seen = b.CreateExtractValue(pair, 0, "seen");
    Value* swapped = b.CreateExtractValue(pair, 1, "swapped");
    cur->addIncoming(seen, attempt);
    b.CreateCondBr(swapped, done, head);
    b.SetInsertPoint(done);
  }

  void emit_finalize(IRBuilder<>& b, Value* w) {
    Value* count = b.CreateAlignedLoad(i32_, b.CreateInBoundsGEP(i32_, counts_, w), llvm::Align(4), "count");
    Value* empty = b.CreateICmpEQ(count, llvm::ConstantInt::get(i32_, 0));
    Value* denom = b.CreateSIToFP(count, out_);
    Value* cell = b.CreateInBoundsGEP(out_, out_ptr_, b.CreateNSWMul(w, c64(channels_)), "cell");
    llvm::Constant* zero = llvm::ConstantFP::get(out_, 0.0);
    channels(b, "finalize_channel", [&](Value* c) {
      Value* ptr = b.CreateInBoundsGEP(out_, cell, c);
      Value* v = b.CreateAlignedLoad(out_, ptr, out_align());
      Value* r = spec_.mode == VoxelMode::Mean ? b.CreateFDiv(v, denom) : v;
      Value* result = b.CreateSelect(empty, zero, r);
      b.CreateAlignedStore(result, ptr, out_align());
    });
  }

  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  VoxelizeSpec spec_;
  llvm::Function* f_ = nullptr;
  llvm::Type* i64_ = nullptr;
  llvm::Type* i32_ = nullptr;
  llvm::Type* coord_ = nullptr;
  llvm::Type* out_ = nullptr;
  llvm::Type* out_bits_ = nullptr;
  bool feature_mode_ = false;
  bool atomic_ = true;
  llvm::AllocaInst* cell_buffer_ = nullptr;  // kBlock cells of one scatter segment
  Value* owned_lo_ = nullptr;                 // the cells a plain scatter updates: [lo, hi)
  Value* owned_hi_ = nullptr;  // scatter updates: atomic (parallel launch) or plain (serial launch)
  std::int64_t channels_ = 1;
  Value* points_ = nullptr;
  Value* features_ = nullptr;
  Value* lengths_ = nullptr;
  Value* out_ptr_ = nullptr;
  Value* counts_ = nullptr;
  Value* N_ = nullptr;
  Value* cells_ = nullptr;
  Value* gmin_[3] = {};
  Value* vs_[3] = {};
  Value* shape_[3] = {};
};

}  // namespace

std::string voxelize_entry_name(const VoxelizeSpec& spec) {
  return fmt::format("robocache_voxelize_{}_{}_out_{}_f{}", voxel_mode_name(spec.mode), dtype_name(spec.coord_dtype),
                     dtype_name(spec.out_dtype), spec.features);
}

bool voxelize_entry_partitions_cells(const std::string& entry) {
  for (const char* prefix : {"robocache_voxelize_count_", "robocache_voxelize_mean_", "robocache_voxelize_max_"})
    if (entry.rfind(prefix, 0) == 0) return true;
  return false;
}

std::unique_ptr<llvm::Module> build_voxelize_module(llvm::LLVMContext& ctx, const VoxelizeSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout) {
  auto m = std::make_unique<llvm::Module>(entry, ctx);
  m->setTargetTriple(triple);
  m->setDataLayout(data_layout);
  VoxelizeEmitter(*m, spec).emit(entry);
  return m;
}

}  // namespace robocache::llvm_ir

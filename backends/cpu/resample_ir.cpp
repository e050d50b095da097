#include "backends/cpu/resample_ir.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include "compiler/fuse_abi.h"
#include "backends/cpu/float_bits_ir.h"
#include "compiler/resample_abi.h"

// Semantics are ops.md §1 and §2, in an order of operations the CUDA template repeats so the two
// backends agree bit for bit (cubic and slerp within tolerance): time arithmetic (bracket,
// weight, nearest's comparison, cubic's s and h) in the time dtype, each result rounded once to
// the blend type; linear blends with one llvm.fma; no instruction carries fast-math flags.
// A zero weight (an exact hit, or one too small for the blend type) copies v[l] in every mode.
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

// One modality: its channels, groups and where it lands in the output row.
struct Part {
  std::int64_t dim = 1;
  std::vector<ChannelGroup> groups;
  std::int64_t out_offset = 0;
};

// Slot numbers the entry unpacks.
struct PartSlots {
  int data, times, lengths, S, stride;
};
struct Slots {
  int out, tgt, T, tgt_stride;
  std::vector<PartSlots> parts;
};

// Per-part body arguments.
struct PartArgs {
  Value* data;
  Value* times;
  Value* lengths;
  Value* S;
  Value* stride;
};

// Emits one resample or fuse module. The work is in an internal body function taking typed
// `noalias` pointers (so after inlining the vectoriser knows the output does not overlap the
// inputs and needs no runtime alias checks) and the C-ABI entry unpacks the slots.
class ResampleEmitter {
 public:
  ResampleEmitter(llvm::Module& m, DType dtype, DType time_dtype, std::vector<Part> parts)
      : m_(m), ctx_(m.getContext()), dtype_(dtype), parts_(std::move(parts)) {
    i64_ = llvm::Type::getInt64Ty(ctx_);
    time_ = float_type(ctx_, time_dtype);
    switch (dtype) {
      case DType::F16:
      case DType::BF16:
        storage_ = llvm::Type::getInt16Ty(ctx_);
        blend_ = llvm::Type::getFloatTy(ctx_);
        break;
      case DType::F32:
      case DType::F64:
        storage_ = float_type(ctx_, dtype);
        blend_ = storage_;
        break;
      default:
        throw std::invalid_argument(fmt::format("resample IR: '{}' is not a value dtype", dtype_name(dtype)));
    }
    for (const Part& p : parts_) {
      total_dim_ = std::max(total_dim_, p.out_offset + p.dim);
      std::int64_t next = 0;
      for (const ChannelGroup& g : p.groups) {
        if (g.start != next || g.size < 1 || g.start + g.size > p.dim)
          throw std::invalid_argument("resample IR: channel groups must tile [0, dim) in order");
        if (g.interp == Interp::Slerp && g.size != 4)
          throw std::invalid_argument("resample IR: a slerp group needs exactly 4 channels");
        next = g.start + g.size;
      }
      if (next != p.dim) throw std::invalid_argument("resample IR: channel groups must tile [0, dim)");
    }
  }

  void emit(const std::string& entry, const Slots& slots) { emit_entry(entry, slots, emit_body(entry + ".body")); }

 private:
  Value* c64(std::int64_t v) const { return llvm::ConstantInt::get(i64_, v); }
  llvm::Constant* cb(double v) const { return llvm::ConstantFP::get(blend_, v); }
  llvm::Align storage_align() const { return llvm::Align(m_.getDataLayout().getTypeStoreSize(storage_)); }
  llvm::Align time_align() const { return llvm::Align(time_->getPrimitiveSizeInBits() / 8); }

  // A value element in the blend type; f16/bf16 widen exactly.
  Value* load_value(IRBuilder<>& b, Value* ptr) const {
    Value* raw = b.CreateAlignedLoad(storage_, ptr, storage_align());
    if (dtype_ == DType::F16) return f16_bits_to_f32(b, raw);
    if (dtype_ == DType::BF16) return bf16_bits_to_f32(b, raw);
    return raw;
  }

  void store_value(IRBuilder<>& b, Value* v, Value* ptr) const {
    if (dtype_ == DType::F16) v = f32_to_f16_bits(b, v);
    if (dtype_ == DType::BF16) v = f32_to_bf16_bits(b, v);
    store_raw(b, v, ptr);
  }

  void store_raw(IRBuilder<>& b, Value* v, Value* ptr) const { b.CreateAlignedStore(v, ptr, storage_align()); }

  // The quiet NaN a NaN target time produces, in storage form.
  llvm::Constant* nan_storage() const {
    if (dtype_ == DType::F16) return llvm::ConstantInt::get(storage_, 0x7e00);
    if (dtype_ == DType::BF16) return llvm::ConstantInt::get(storage_, 0x7fc0);
    return llvm::ConstantFP::getNaN(storage_);
  }

  // for (c = first; c < end; ++c) body(c), then branch to `after`; end > first. With constant
  // bounds this is the loop the vectoriser and unroller specialise.
  void channel_loop(IRBuilder<>& b, const char* name, Value* first, Value* end, BasicBlock* after,
                    const std::function<void(Value* c)>& body) const {
    llvm::Function* f = b.GetInsertBlock()->getParent();
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* loop = BasicBlock::Create(ctx_, name, f);
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    llvm::PHINode* c = b.CreatePHI(i64_, 2, "c");
    c->addIncoming(first, pre);
    body(c);
    Value* next = b.CreateAdd(c, c64(1), "c.next", true, true);
    c->addIncoming(next, b.GetInsertBlock());
    Value* done = b.CreateICmpEQ(next, end);
    b.CreateCondBr(done, after, loop);
  }
  void channel_loop(IRBuilder<>& b, const char* name, std::int64_t first, std::int64_t count, BasicBlock* after,
                    const std::function<void(Value* c)>& body) const {
    channel_loop(b, name, c64(first), c64(first + count), after, body);
  }

  // Converts a time-dtype value to the blend type (round to nearest, or exact).
  Value* to_blend(IRBuilder<>& b, Value* v, const char* name) const {
    if (time_ == blend_) return v;
    if (time_->isDoubleTy()) return b.CreateFPTrunc(v, blend_, name);
    return b.CreateFPExt(v, blend_, name);
  }

  llvm::FunctionCallee libm(const char* f32_name, const char* f64_name) const {
    const char* name = blend_->isFloatTy() ? f32_name : f64_name;
    return m_.getOrInsertFunction(name, llvm::FunctionType::get(blend_, {blend_}, false));
  }

  // Copies the channels [first, first+count) of the sample row `from` to `to` as storage bits.
  void copy_channels(IRBuilder<>& b, const char* name, std::int64_t first, std::int64_t count, Value* from, Value* to,
                     BasicBlock* after) const {
    copy_channels(b, name, c64(first), c64(first + count), from, to, after);
  }
  void copy_channels(IRBuilder<>& b, const char* name, Value* first, Value* end, Value* from, Value* to,
                     BasicBlock* after) const {
    channel_loop(b, name, first, end, after, [&](Value* c) {
      Value* v = b.CreateAlignedLoad(storage_, b.CreateInBoundsGEP(storage_, from, c), storage_align());
      store_raw(b, v, b.CreateInBoundsGEP(storage_, to, c));
    });
  }

  // Everything one target needs from its bracket, computed once and shared by all groups.
  struct Bracket {
    Value* src_row;    // time row
    Value* data_row;   // first sample of this batch row
    Value* lo;         // l
    Value* hi;         // r = l + 1
    Value* last;       // L - 1
    Value* x;
    Value* t_l;
    Value* t_r;
    Value* offset;     // x - t[l] (time dtype)
    Value* span;       // t[r] - t[l] (time dtype)
    Value* a;          // weight, blend type
    Value* v_l_row;
    Value* v_r_row;
    Value* dim;
  };

  // Resamples part p of this work item into out_row[p.out_offset ..]; ends in `done`.
  void emit_part(IRBuilder<>& b, const Part& p, const PartArgs& args, Value* row, Value* x, Value* out_row,
                 BasicBlock* done, int index) {
    llvm::Function* f = b.GetInsertBlock()->getParent();
    auto block = [&](const char* n) { return BasicBlock::Create(ctx_, fmt::format("m{}.{}", index, n), f); };
    BasicBlock* load_length = block("load_length");
    BasicBlock* have_length = block("have_length");
    BasicBlock* check_last = block("check_last");
    BasicBlock* search_head = block("search_head");
    BasicBlock* gallop_head = block("gallop_head");
    BasicBlock* gallop_probe = block("gallop_probe");
    BasicBlock* search_loop = block("search_loop");
    BasicBlock* search_step = block("search_step");
    BasicBlock* weigh = block("weigh");
    BasicBlock* interp = block("interp");
    BasicBlock* hold = block("hold");
    Value* dim = c64(p.dim);
    Value* out = b.CreateInBoundsGEP(storage_, out_row, c64(p.out_offset), "out_part");

    // L = lengths ? lengths[row] : S, clamped to [1, S] so a bad length never reads outside the row.
    BasicBlock* pre = b.GetInsertBlock();
    Value* no_lengths = b.CreateICmpEQ(args.lengths, llvm::ConstantPointerNull::get(i64_->getPointerTo()));
    b.CreateCondBr(no_lengths, have_length, load_length);
    b.SetInsertPoint(load_length);
    Value* given = b.CreateAlignedLoad(i64_, b.CreateInBoundsGEP(i64_, args.lengths, row), llvm::Align(8), "L.given");
    Value* at_least_one = b.CreateSelect(b.CreateICmpSLT(given, c64(1)), c64(1), given);
    Value* clamped = b.CreateSelect(b.CreateICmpSGT(at_least_one, args.S), args.S, at_least_one);
    b.CreateBr(have_length);
    b.SetInsertPoint(have_length);
    llvm::PHINode* L = b.CreatePHI(i64_, 2, "L");
    L->addIncoming(args.S, pre);
    L->addIncoming(clamped, load_length);
    Value* last = b.CreateSub(L, c64(1), "last");
    Value* src_row = b.CreateInBoundsGEP(time_, args.times, b.CreateNSWMul(row, args.stride), "src_row");
    Value* data_row = b.CreateInBoundsGEP(storage_, args.data, b.CreateNSWMul(b.CreateNSWMul(row, args.S), dim), "data_row");
    auto load_time = [&](Value* i, const char* n) {
      return b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, src_row, i), time_align(), n);
    };
    Value* t_first = load_time(c64(0), "t_first");
    b.CreateCondBr(b.CreateFCmpOLE(x, t_first), hold, check_last);

    b.SetInsertPoint(check_last);
    Value* t_last = load_time(last, "t_last");
    b.CreateCondBr(b.CreateFCmpOGE(x, t_last), hold, search_head);

    // The bracket search keeps t[lo] <= x < t[lo + n] and ends at n = 1, so lo is the largest
    // index with t[lo] <= x, even across repeated timestamps; that index is unique, so every
    // starting window gives the same l. The window starts at the previous item's l (the part's
    // hint, clamped into this row): targets within a row are usually sorted, so when t[h] <= x a
    // gallop forward (h+1, h+3, h+7, ...) finds a small window, and otherwise t[h] > x bounds a
    // search of [0, h]. The search itself is branch-free (select) with a trip count set by n.
    b.SetInsertPoint(search_head);
    Value* hint = b.CreateAlignedLoad(i64_, hint_slots_[index], llvm::Align(8), "hint");
    Value* h = b.CreateSelect(b.CreateICmpULT(hint, last), hint, last, "h");
    Value* t_h = load_time(h, "t_h");
    b.CreateCondBr(b.CreateFCmpOLE(t_h, x), gallop_head, search_loop);

    b.SetInsertPoint(gallop_head);
    llvm::PHINode* g_lo = b.CreatePHI(i64_, 2, "g_lo");
    llvm::PHINode* g_step = b.CreatePHI(i64_, 2, "g_step");
    g_lo->addIncoming(h, search_head);
    g_step->addIncoming(c64(1), search_head);
    Value* probe = b.CreateNSWAdd(g_lo, g_step, "probe");
    Value* to_last = b.CreateSub(last, g_lo, "to_last");
    b.CreateCondBr(b.CreateICmpSLT(probe, last), gallop_probe, search_loop);

    b.SetInsertPoint(gallop_probe);
    Value* t_probe = load_time(probe, "t_probe");
    g_lo->addIncoming(probe, gallop_probe);
    g_step->addIncoming(b.CreateShl(g_step, c64(1)), gallop_probe);
    b.CreateCondBr(b.CreateFCmpOLE(t_probe, x), gallop_head, search_loop);

    b.SetInsertPoint(search_loop);
    llvm::PHINode* lo = b.CreatePHI(i64_, 4, "lo");
    llvm::PHINode* n = b.CreatePHI(i64_, 4, "n");
    lo->addIncoming(c64(0), search_head);
    n->addIncoming(h, search_head);
    lo->addIncoming(g_lo, gallop_head);
    n->addIncoming(to_last, gallop_head);
    lo->addIncoming(g_lo, gallop_probe);
    n->addIncoming(g_step, gallop_probe);
    b.CreateCondBr(b.CreateICmpSGT(n, c64(1)), search_step, weigh);

    b.SetInsertPoint(search_step);
    Value* half = b.CreateLShr(n, c64(1), "half");
    Value* mid = b.CreateNSWAdd(lo, half, "mid");
    Value* t_mid = load_time(mid, "t_mid");
    Value* at_or_before = b.CreateFCmpOLE(t_mid, x);
    lo->addIncoming(b.CreateSelect(at_or_before, mid, lo), search_step);
    n->addIncoming(b.CreateSub(n, half), search_step);
    b.CreateBr(search_loop);

    b.SetInsertPoint(weigh);
    Bracket k;
    k.src_row = src_row;
    k.data_row = data_row;
    k.lo = lo;
    k.hi = b.CreateNUWAdd(lo, c64(1), "hi");
    b.CreateAlignedStore(lo, hint_slots_[index], llvm::Align(8));
    k.last = last;
    k.x = x;
    k.dim = dim;
    k.t_l = load_time(lo, "t_l");
    k.t_r = load_time(k.hi, "t_r");
    k.offset = b.CreateFSub(x, k.t_l, "x_minus_t_l");
    k.span = b.CreateFSub(k.t_r, k.t_l, "t_r_minus_t_l");
    Value* a_time = b.CreateFDiv(k.offset, k.span, "a");
    k.a = to_blend(b, a_time, "a.blend");
    // A zero weight copies v[l]: fma(0, d, v) would turn -0 into +0 and an infinite neighbour into NaN.
    b.CreateCondBr(b.CreateFCmpOEQ(k.a, cb(0.0)), hold, interp);

    b.SetInsertPoint(interp);
    k.v_l_row = b.CreateInBoundsGEP(storage_, data_row, b.CreateNSWMul(lo, dim), "v_l");
    k.v_r_row = b.CreateInBoundsGEP(storage_, k.v_l_row, dim, "v_r");
    nearest_first_ = nullptr;
    cubic_ = {};
    // One piece of code per run of groups, not per group, so the IR (and the optimiser's work)
    // grows with the number of mode changes and never with the number of quaternions.
    const std::vector<GroupRun> runs = group_runs(p.groups);
    if (runs.size() <= kMaxUnrolledRuns) {
      for (std::size_t r = 0; r < runs.size(); ++r) {
        BasicBlock* after = block(fmt::format("g{}.done", r).c_str());
        emit_run(b, runs[r], k, out, after, index, static_cast<int>(r));
        b.SetInsertPoint(after);
      }
    } else {
      emit_run_table(b, runs, k, out, index);
    }
    b.CreateBr(done);

    // Holds copy storage bits, so held and exactly hit samples come out bit for bit.
    b.SetInsertPoint(hold);
    llvm::PHINode* held = b.CreatePHI(i64_, 3, "held");
    held->addIncoming(c64(0), have_length);
    held->addIncoming(last, check_last);
    held->addIncoming(lo, weigh);
    Value* held_row = b.CreateInBoundsGEP(storage_, data_row, b.CreateNSWMul(held, dim), "v_held");
    copy_channels(b, fmt::format("m{}.hold_channel", index).c_str(), 0, p.dim, held_row, out, done);
  }

  // Consecutive groups that one loop can serve: channels [start, start + size) of one mode; for
  // slerp, `size / 4` quaternions side by side.
  struct GroupRun {
    std::int64_t start = 0;
    std::int64_t size = 0;
    Interp interp = Interp::Linear;
  };

  // Merges neighbouring groups of one mode: per-channel modes act on each channel alone, so two
  // linear groups side by side are one linear range, and slerp groups side by side are one loop
  // over quaternions. The result is the same channel for channel.
  static std::vector<GroupRun> group_runs(const std::vector<ChannelGroup>& groups) {
    std::vector<GroupRun> runs;
    for (const ChannelGroup& g : groups) {
      if (!runs.empty() && runs.back().interp == g.interp && runs.back().start + runs.back().size == g.start)
        runs.back().size += g.size;
      else
        runs.push_back({g.start, g.size, g.interp});
    }
    return runs;
  }

  // More runs than this are served by one loop over a table of runs (emit_run_table), so the code
  // and the optimiser's work stop growing with the number of mode changes.
  static constexpr std::size_t kMaxUnrolledRuns = 32;

  void emit_run(IRBuilder<>& b, const GroupRun& g, const Bracket& k, Value* out, BasicBlock* after, int part,
                int group) {
    const std::string name = fmt::format("m{}.g{}.{}", part, group, interp_name(g.interp));
    if (g.interp == Interp::Slerp && g.size == 4) {  // one quaternion: no loop
      emit_slerp(b, c64(g.start), k, out);
      b.CreateBr(after);
      return;
    }
    emit_mode(b, g.interp, c64(g.start), c64(g.start + g.size), k, out, after, name);
  }

  // Channels [start, end) of one mode (for slerp, (end - start) / 4 quaternions), then `after`.
  // Nearest's row choice and cubic's terms are made on first use, in the current block; a caller
  // that loops over runs makes them before its loop (emit_run_table).
  void emit_mode(IRBuilder<>& b, Interp mode, Value* start, Value* end, const Bracket& k, Value* out,
                 BasicBlock* after, const std::string& name) {
    switch (mode) {
      case Interp::Linear: {
        llvm::Function* fma = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::fma, {blend_});
        channel_loop(b, name.c_str(), start, end, after, [&](Value* c) {
          Value* v_l = load_value(b, b.CreateInBoundsGEP(storage_, k.v_l_row, c));
          Value* v_r = load_value(b, b.CreateInBoundsGEP(storage_, k.v_r_row, c));
          Value* diff = b.CreateFSub(v_r, v_l);
          Value* blended = b.CreateCall(fma, {k.a, diff, v_l});
          store_value(b, blended, b.CreateInBoundsGEP(storage_, out, c));
        });
        return;
      }
      case Interp::Previous:
        copy_channels(b, name.c_str(), start, end, k.v_l_row, out, after);
        return;
      case Interp::Nearest:
        if (!nearest_first_) prepare_nearest(b, k);
        copy_channels(b, name.c_str(), start, end, nearest_first_, out, after);
        return;
      case Interp::Cubic: {
        if (!cubic_.basis[0]) prepare_cubic(b, k);
        channel_loop(b, name.c_str(), start, end, after, [&](Value* c) {
          Value* v_l = load_value(b, b.CreateInBoundsGEP(storage_, k.v_l_row, c));
          Value* v_r = load_value(b, b.CreateInBoundsGEP(storage_, k.v_r_row, c));
          Value* v_lm = load_value(b, b.CreateInBoundsGEP(storage_, cubic_.v_lm_row, c));
          Value* v_rp = load_value(b, b.CreateInBoundsGEP(storage_, cubic_.v_rp_row, c));
          // m[l] = (v[l+1] - v[l-1]) / (t[l+1] - t[l-1]) with one-sided ends; 0 for a zero denominator.
          Value* dv_l = b.CreateFSub(v_r, v_lm);
          Value* q_l = b.CreateFDiv(dv_l, cubic_.den_l);
          Value* m_l = b.CreateSelect(cubic_.den_l_zero, cb(0.0), q_l, "m_l");
          Value* dv_r = b.CreateFSub(v_rp, v_l);
          Value* q_r = b.CreateFDiv(dv_r, cubic_.den_r);
          Value* m_r = b.CreateSelect(cubic_.den_r_zero, cb(0.0), q_r, "m_r");
          // h00 v[l] + h10 h m[l] + h01 v[r] + h11 h m[r], summed left to right.
          Value* t0 = b.CreateFMul(cubic_.basis[0], v_l);
          Value* t1 = b.CreateFMul(cubic_.basis[1], m_l);
          Value* t2 = b.CreateFMul(cubic_.basis[2], v_r);
          Value* t3 = b.CreateFMul(cubic_.basis[3], m_r);
          Value* s01 = b.CreateFAdd(t0, t1);
          Value* s012 = b.CreateFAdd(s01, t2);
          Value* sum = b.CreateFAdd(s012, t3, "cubic");
          store_value(b, sum, b.CreateInBoundsGEP(storage_, out, c));
        });
        return;
      }
      case Interp::Slerp: {
        Value* width = b.CreateNSWSub(end, start);
        Value* quaternions = b.CreateLShr(width, c64(2), "quaternions");
        channel_loop(b, name.c_str(), c64(0), quaternions, after, [&](Value* q) {
          Value* offset = b.CreateNSWMul(q, c64(4));
          Value* first = b.CreateNSWAdd(offset, start, "quaternion");
          emit_slerp(b, first, k, out);
        });
        return;
      }
    }
    throw std::invalid_argument("resample IR: unknown interpolation mode");
  }

  // A tie goes to the earlier sample.
  void prepare_nearest(IRBuilder<>& b, const Bracket& k) {
    Value* to_right = b.CreateFSub(k.t_r, k.x, "t_r_minus_x");
    Value* earlier = b.CreateFCmpOLE(k.offset, to_right, "nearest_is_l");
    nearest_first_ = b.CreateSelect(earlier, k.v_l_row, k.v_r_row, "v_nearest");
  }

  // Many runs: a constant table of (start, end, mode) rows and one loop over it, with one copy of
  // each mode's code. The IR is the same size whatever the number of runs; only the table grows.
  void emit_run_table(IRBuilder<>& b, const std::vector<GroupRun>& runs, const Bracket& k, Value* out, int part) {
    llvm::Function* f = b.GetInsertBlock()->getParent();
    auto* row_type = llvm::ArrayType::get(i64_, 3);
    std::vector<llvm::Constant*> rows;
    std::vector<Interp> modes;
    for (const GroupRun& r : runs) {
      rows.push_back(llvm::ConstantArray::get(
          row_type, {llvm::ConstantInt::get(i64_, r.start), llvm::ConstantInt::get(i64_, r.start + r.size),
                     llvm::ConstantInt::get(i64_, static_cast<int>(r.interp))}));
      if (std::find(modes.begin(), modes.end(), r.interp) == modes.end()) modes.push_back(r.interp);
    }
    auto* table_type = llvm::ArrayType::get(row_type, rows.size());
    auto* table = new llvm::GlobalVariable(m_, table_type, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
                                           llvm::ConstantArray::get(table_type, rows), fmt::format("m{}.runs", part));
    // Shared per-target terms, made here so they dominate every use inside the loop.
    for (Interp m : modes) {
      if (m == Interp::Nearest) prepare_nearest(b, k);
      if (m == Interp::Cubic) prepare_cubic(b, k);
    }
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* head = BasicBlock::Create(ctx_, fmt::format("m{}.runs.head", part), f);
    BasicBlock* latch = BasicBlock::Create(ctx_, fmt::format("m{}.runs.next", part), f);
    BasicBlock* exit = BasicBlock::Create(ctx_, fmt::format("m{}.runs.done", part), f);
    b.CreateBr(head);
    b.SetInsertPoint(head);
    llvm::PHINode* r = b.CreatePHI(i64_, 2, "run");
    r->addIncoming(c64(0), pre);
    auto field = [&](int i, const char* n) {
      Value* at = b.CreateInBoundsGEP(table_type, table, {c64(0), r, c64(i)});
      return b.CreateAlignedLoad(i64_, at, llvm::Align(8), n);
    };
    Value* start = field(0, "run.start");
    Value* end = field(1, "run.end");
    Value* mode = field(2, "run.mode");
    llvm::SwitchInst* sw = b.CreateSwitch(mode, latch, static_cast<unsigned>(modes.size()));
    for (Interp m : modes) {
      BasicBlock* body = BasicBlock::Create(ctx_, fmt::format("m{}.runs.{}", part, interp_name(m)), f);
      sw->addCase(llvm::ConstantInt::get(llvm::cast<llvm::IntegerType>(i64_), static_cast<int>(m)), body);
      b.SetInsertPoint(body);
      emit_mode(b, m, start, end, k, out, latch, fmt::format("m{}.runs.{}.loop", part, interp_name(m)));
    }
    b.SetInsertPoint(latch);
    Value* next = b.CreateNUWAdd(r, c64(1), "run.next");
    r->addIncoming(next, latch);
    b.CreateCondBr(b.CreateICmpEQ(next, c64(static_cast<std::int64_t>(runs.size()))), exit, head);
    b.SetInsertPoint(exit);
  }

  // Cubic's per-target terms: neighbour rows, tangent denominators, and the Hermite basis
  // with h folded into the tangent weights (h10*h, h11*h).
  void prepare_cubic(IRBuilder<>& b, const Bracket& k) {
    Value* has_prev = b.CreateICmpSGT(k.lo, c64(0));
    Value* lo_minus = b.CreateSub(k.lo, c64(1));
    Value* lm = b.CreateSelect(has_prev, lo_minus, c64(0), "l_minus");
    Value* has_next = b.CreateICmpSLT(k.hi, k.last);
    Value* hi_plus = b.CreateAdd(k.hi, c64(1));
    Value* rp = b.CreateSelect(has_next, hi_plus, k.last, "r_plus");
    Value* t_lm = b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, k.src_row, lm), time_align(), "t_lm");
    Value* t_rp = b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, k.src_row, rp), time_align(), "t_rp");
    Value* dt_l = b.CreateFSub(k.t_r, t_lm, "dt_l");
    Value* dt_r = b.CreateFSub(t_rp, k.t_l, "dt_r");
    cubic_.den_l = to_blend(b, dt_l, "den_l");
    cubic_.den_r = to_blend(b, dt_r, "den_r");
    cubic_.den_l_zero = b.CreateFCmpOEQ(cubic_.den_l, cb(0.0));
    cubic_.den_r_zero = b.CreateFCmpOEQ(cubic_.den_r, cb(0.0));
    cubic_.v_lm_row = b.CreateInBoundsGEP(storage_, k.data_row, b.CreateNSWMul(lm, k.dim), "v_lm");
    cubic_.v_rp_row = b.CreateInBoundsGEP(storage_, k.data_row, b.CreateNSWMul(rp, k.dim), "v_rp");
    Value* s = k.a;  // (x - t[l]) / h in the time dtype, rounded to the blend type
    Value* h = to_blend(b, k.span, "h");
    Value* s2 = b.CreateFMul(s, s, "s2");
    Value* s3 = b.CreateFMul(s2, s, "s3");
    // h00 = 2s³ - 3s² + 1
    Value* a0 = b.CreateFMul(cb(2.0), s3);
    Value* a1 = b.CreateFMul(cb(3.0), s2);
    Value* a2 = b.CreateFSub(a0, a1);
    cubic_.basis[0] = b.CreateFAdd(a2, cb(1.0), "h00");
    // h10 = s³ - 2s² + s
    Value* b0 = b.CreateFMul(cb(2.0), s2);
    Value* b1 = b.CreateFSub(s3, b0);
    Value* h10 = b.CreateFAdd(b1, s, "h10");
    cubic_.basis[1] = b.CreateFMul(h10, h, "h10h");
    // h01 = -2s³ + 3s²
    Value* c0 = b.CreateFMul(cb(-2.0), s3);
    Value* c1 = b.CreateFMul(cb(3.0), s2);
    cubic_.basis[2] = b.CreateFAdd(c0, c1, "h01");
    // h11 = s³ - s²
    Value* h11 = b.CreateFSub(s3, s2, "h11");
    cubic_.basis[3] = b.CreateFMul(h11, h, "h11h");
  }

  // Quaternion (x, y, z, w) slerp along the shorter arc, nlerp below 1e-6 rad, normalised; the
  // quaternion's channels are first .. first + 3 (a constant, or a loop's counter).
  void emit_slerp(IRBuilder<>& b, Value* first, const Bracket& k, Value* out) {
    Value* ql[4];
    Value* qr[4];
    Value* channel[4];
    for (int i = 0; i < 4; ++i) channel[i] = i == 0 ? first : b.CreateNSWAdd(first, c64(i));
    for (int i = 0; i < 4; ++i) {
      Value* ci = channel[i];
      ql[i] = load_value(b, b.CreateInBoundsGEP(storage_, k.v_l_row, ci));
      qr[i] = load_value(b, b.CreateInBoundsGEP(storage_, k.v_r_row, ci));
    }
    Value* d = b.CreateFMul(ql[0], qr[0]);
    for (int i = 1; i < 4; ++i) {
      Value* p = b.CreateFMul(ql[i], qr[i]);
      d = b.CreateFAdd(d, p);
    }
    Value* flip = b.CreateFCmpOLT(d, cb(0.0), "flip");
    for (int i = 0; i < 4; ++i) {
      Value* neg = b.CreateFNeg(qr[i]);
      qr[i] = b.CreateSelect(flip, neg, qr[i]);
    }
    Value* neg_d = b.CreateFNeg(d);
    d = b.CreateSelect(flip, neg_d, d, "d");
    Value* above_one = b.CreateFCmpOGT(d, cb(1.0));
    Value* d_clamped = b.CreateSelect(above_one, cb(1.0), d);
    Value* theta = b.CreateCall(libm("acosf", "acos"), {d_clamped}, "theta");

    llvm::Function* f = b.GetInsertBlock()->getParent();
    BasicBlock* pre = b.GetInsertBlock();
    BasicBlock* arc = BasicBlock::Create(ctx_, "slerp.arc", f);
    BasicBlock* join = BasicBlock::Create(ctx_, "slerp.join", f);
    Value* small = b.CreateFCmpOLT(theta, cb(1e-6), "small_angle");
    // Small angle: weights (1-a, a) applied as ql + a*(qr-ql) below.
    b.CreateCondBr(small, join, arc);

    b.SetInsertPoint(arc);
    llvm::FunctionCallee sin = libm("sinf", "sin");
    Value* sin_theta = b.CreateCall(sin, {theta}, "sin_theta");
    Value* one_minus_a = b.CreateFSub(cb(1.0), k.a);
    Value* arg_l = b.CreateFMul(one_minus_a, theta);
    Value* arg_r = b.CreateFMul(k.a, theta);
    Value* sin_l = b.CreateCall(sin, {arg_l});
    Value* sin_r = b.CreateCall(sin, {arg_r});
    Value* w_l = b.CreateFDiv(sin_l, sin_theta, "w_l");
    Value* w_r = b.CreateFDiv(sin_r, sin_theta, "w_r");
    Value* arc_q[4];
    for (int i = 0; i < 4; ++i) {
      Value* pl = b.CreateFMul(w_l, ql[i]);
      Value* pr = b.CreateFMul(w_r, qr[i]);
      arc_q[i] = b.CreateFAdd(pl, pr);
    }
    b.CreateBr(join);

    b.SetInsertPoint(join);
    llvm::Function* fma = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::fma, {blend_});
    Value* q[4];
    for (int i = 0; i < 4; ++i) {
      llvm::PHINode* phi = b.CreatePHI(blend_, 2);
      phi->addIncoming(arc_q[i], arc);
      q[i] = phi;
    }
    // The nlerp values are computed in `pre` so both incoming values dominate the join.
    {
      IRBuilder<> pb(pre->getTerminator());
      for (int i = 0; i < 4; ++i) {
        Value* diff = pb.CreateFSub(qr[i], ql[i]);
        Value* nl = pb.CreateCall(fma, {k.a, diff, ql[i]});
        llvm::cast<llvm::PHINode>(q[i])->addIncoming(nl, pre);
      }
    }
    Value* n2 = b.CreateFMul(q[0], q[0]);
    for (int i = 1; i < 4; ++i) {
      Value* sq = b.CreateFMul(q[i], q[i]);
      n2 = b.CreateFAdd(n2, sq);
    }
    llvm::Function* sqrt = llvm::Intrinsic::getDeclaration(&m_, llvm::Intrinsic::sqrt, {blend_});
    Value* norm = b.CreateCall(sqrt, {n2}, "norm");
    for (int i = 0; i < 4; ++i) {
      Value* unit = b.CreateFDiv(q[i], norm);
      store_value(b, unit, b.CreateInBoundsGEP(storage_, out, channel[i]));
    }
  }

  llvm::Function* emit_body(const std::string& name) {
    llvm::Type* storage_ptr = storage_->getPointerTo();
    llvm::Type* time_ptr = time_->getPointerTo();
    llvm::Type* i64_ptr = i64_->getPointerTo();
    // out, tgt, T, tgt_stride, begin, end, then per part: data, times, lengths, S, stride.
    std::vector<llvm::Type*> params = {storage_ptr, time_ptr, i64_, i64_, i64_, i64_};
    for (std::size_t i = 0; i < parts_.size(); ++i)
      params.insert(params.end(), {storage_ptr, time_ptr, i64_ptr, i64_, i64_});
    auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), params, false);
    auto* f = llvm::Function::Create(type, llvm::Function::InternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::AlwaysInline);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    auto pointer_param = [&](unsigned i, bool read_only, const std::string& n) {
      f->addParamAttr(i, llvm::Attribute::NoAlias);
      f->addParamAttr(i, llvm::Attribute::NoCapture);
      if (read_only) f->addParamAttr(i, llvm::Attribute::ReadOnly);
      f->getArg(i)->setName(n);
    };
    pointer_param(0, false, "out");
    pointer_param(1, true, "tgt_times");
    const char* names[] = {"T", "tgt_stride", "begin", "end"};
    for (unsigned i = 0; i < 4; ++i) f->getArg(2 + i)->setName(names[i]);
    std::vector<PartArgs> part_args;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      unsigned base = 6 + 5 * static_cast<unsigned>(i);
      pointer_param(base, true, fmt::format("data{}", i));
      pointer_param(base + 1, true, fmt::format("times{}", i));
      pointer_param(base + 2, true, fmt::format("lengths{}", i));
      f->getArg(base + 3)->setName(fmt::format("S{}", i));
      f->getArg(base + 4)->setName(fmt::format("stride{}", i));
      part_args.push_back({f->getArg(base), f->getArg(base + 1), f->getArg(base + 2), f->getArg(base + 3),
                           f->getArg(base + 4)});
    }
    Value* out = f->getArg(0);
    Value* tgt = f->getArg(1);
    Value* T = f->getArg(2);
    Value* tgt_stride = f->getArg(3);
    Value* begin = f->getArg(4);
    Value* end = f->getArg(5);

    auto block = [&](const char* n) { return BasicBlock::Create(ctx_, n, f); };
    BasicBlock* entry = block("entry");
    BasicBlock* start = block("start");
    BasicBlock* item = block("item");
    BasicBlock* parts = block("parts");
    BasicBlock* nan_fill = block("nan_fill");
    BasicBlock* next = block("next");
    BasicBlock* exit = block("exit");

    IRBuilder<> b(entry);
    // Each part's bracket hint: the l of the previous item it searched (see emit_part).
    hint_slots_.clear();
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      llvm::AllocaInst* slot = b.CreateAlloca(i64_, nullptr, fmt::format("m{}.hint", i));
      b.CreateAlignedStore(c64(0), slot, llvm::Align(8));
      hint_slots_.push_back(slot);
    }
    // Empty ranges and S = 0 return without touching memory; S = 0 is rejected before launch,
    // this only keeps a bad launch from reading t[-1].
    Value* ok = b.CreateICmpSLT(begin, end);
    Value* has_targets = b.CreateICmpSGT(T, c64(0));
    ok = b.CreateAnd(ok, has_targets);
    for (const PartArgs& p : part_args) {
      Value* has_sources = b.CreateICmpSGT(p.S, c64(0));
      ok = b.CreateAnd(ok, has_sources);
    }
    b.CreateCondBr(ok, start, exit);

    b.SetInsertPoint(start);
    // One division per task, not per item: later items step (b, t) incrementally.
    Value* b0 = b.CreateSDiv(begin, T, "b0");
    Value* t0 = b.CreateSRem(begin, T, "t0");
    b.CreateBr(item);

    b.SetInsertPoint(item);
    llvm::PHINode* w = b.CreatePHI(i64_, 2, "w");
    llvm::PHINode* row = b.CreatePHI(i64_, 2, "b");
    llvm::PHINode* t = b.CreatePHI(i64_, 2, "t");
    w->addIncoming(begin, start);
    row->addIncoming(b0, start);
    t->addIncoming(t0, start);
    Value* x = b.CreateAlignedLoad(time_, b.CreateInBoundsGEP(time_, tgt, b.CreateNSWAdd(b.CreateNSWMul(row, tgt_stride), t)),
                                   time_align(), "x");
    Value* out_row = b.CreateInBoundsGEP(storage_, out, b.CreateNSWMul(w, c64(total_dim_)), "out_row");
    b.CreateCondBr(b.CreateFCmpUNO(x, x, "x_is_nan"), nan_fill, parts);

    b.SetInsertPoint(parts);
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      BasicBlock* done = i + 1 == parts_.size() ? next : block(fmt::format("m{}.done", i).c_str());
      emit_part(b, parts_[i], part_args[i], row, x, out_row, done, static_cast<int>(i));
      b.SetInsertPoint(done);
    }

    b.SetInsertPoint(nan_fill);
    channel_loop(b, "nan_channel", 0, total_dim_, next,
                 [&](Value* c) { store_raw(b, nan_storage(), b.CreateInBoundsGEP(storage_, out_row, c)); });

    b.SetInsertPoint(next);
    Value* w_next = b.CreateNSWAdd(w, c64(1), "w.next");
    Value* t_inc = b.CreateNSWAdd(t, c64(1));
    Value* wrap = b.CreateICmpEQ(t_inc, T);
    w->addIncoming(w_next, next);
    t->addIncoming(b.CreateSelect(wrap, c64(0), t_inc), next);
    row->addIncoming(b.CreateSelect(wrap, b.CreateNSWAdd(row, c64(1)), row), next);
    llvm::BranchInst* latch = b.CreateCondBr(b.CreateICmpSLT(w_next, end), item, exit);
    // The item loop is neither unrolled nor vectorised (its bracket search and channel loops are
    // per item): unrolling it only multiplies the code and the compile time.
    llvm::Metadata* hints[] = {llvm::MDString::get(ctx_, "llvm.loop.unroll.disable"),
                               llvm::MDString::get(ctx_, "llvm.loop.vectorize.enable")};
    llvm::MDNode* no_unroll = llvm::MDNode::get(ctx_, {hints[0]});
    llvm::Metadata* no_vector_ops[] = {hints[1], llvm::ConstantAsMetadata::get(llvm::ConstantInt::getFalse(ctx_))};
    llvm::MDNode* no_vector = llvm::MDNode::get(ctx_, no_vector_ops);
    llvm::TempMDTuple self = llvm::MDNode::getTemporary(ctx_, llvm::None);
    llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx_, {self.get(), no_unroll, no_vector});
    loop_id->replaceOperandWith(0, loop_id);
    latch->setMetadata(llvm::LLVMContext::MD_loop, loop_id);

    b.SetInsertPoint(exit);
    b.CreateRetVoid();
    return f;
  }

  void emit_entry(const std::string& name, const Slots& slots, llvm::Function* body) {
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
    auto pointer = [&](int i, llvm::Type* element) { return b.CreateIntToPtr(slot(i), element->getPointerTo()); };
    std::vector<Value*> args;
    args.push_back(pointer(slots.out, storage_));
    args.push_back(pointer(slots.tgt, time_));
    args.push_back(slot(slots.T));
    args.push_back(slot(slots.tgt_stride));
    args.push_back(f->getArg(1));
    args.push_back(f->getArg(2));
    for (const PartSlots& p : slots.parts) {
      args.push_back(pointer(p.data, storage_));
      args.push_back(pointer(p.times, time_));
      args.push_back(pointer(p.lengths, i64_));
      args.push_back(slot(p.S));
      args.push_back(slot(p.stride));
    }
    b.CreateCall(body, args);
    b.CreateRetVoid();
  }

  struct Cubic {
    Value* basis[4] = {nullptr, nullptr, nullptr, nullptr};  // h00, h10*h, h01, h11*h
    Value* den_l = nullptr;
    Value* den_r = nullptr;
    Value* den_l_zero = nullptr;
    Value* den_r_zero = nullptr;
    Value* v_lm_row = nullptr;
    Value* v_rp_row = nullptr;
  };

  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  DType dtype_;
  std::vector<Part> parts_;
  std::int64_t total_dim_ = 0;
  llvm::Type* i64_ = nullptr;
  llvm::Type* time_ = nullptr;
  llvm::Type* storage_ = nullptr;
  llvm::Type* blend_ = nullptr;
  // Per-part shared values, reset for each part's interpolation block.
  Value* nearest_first_ = nullptr;
  Cubic cubic_;
  std::vector<Value*> hint_slots_;  // per part, an i64 alloca in the body's entry block
};

std::string groups_tag(const std::vector<ChannelGroup>& groups) {
  std::string tag;
  for (const ChannelGroup& g : groups) tag += fmt::format("_{}{}", interp_name(g.interp), g.size);
  return tag;
}

std::unique_ptr<llvm::Module> new_module(llvm::LLVMContext& ctx, const std::string& entry, const std::string& triple,
                                         const std::string& data_layout) {
  auto m = std::make_unique<llvm::Module>(entry, ctx);
  m->setTargetTriple(triple);
  m->setDataLayout(data_layout);
  return m;
}

// Very long names (many groups or modalities) are shortened to a hash of the spec.
std::string bounded(std::string name, const std::string& prefix, const Spec& spec) {
  if (name.size() <= 160) return name;
  return prefix + "_" + spec.hash().substr(0, 24);
}

}  // namespace

std::string resample_entry_name(const ResampleSpec& spec) {
  if (spec.groups.empty())
    return fmt::format("robocache_resample_{}_{}_time_{}_d{}", interp_name(spec.interp), dtype_name(spec.dtype),
                       dtype_name(spec.time_dtype), spec.dim);
  std::string name = fmt::format("robocache_resample_g{}_{}_time_{}_d{}", groups_tag(spec.groups),
                                 dtype_name(spec.dtype), dtype_name(spec.time_dtype), spec.dim);
  return bounded(name, fmt::format("robocache_resample_g_{}_time_{}_d{}", dtype_name(spec.dtype),
                                   dtype_name(spec.time_dtype), spec.dim),
                 Spec(spec));
}

std::unique_ptr<llvm::Module> build_resample_module(llvm::LLVMContext& ctx, const ResampleSpec& spec,
                                                    const std::string& entry, const std::string& triple,
                                                    const std::string& data_layout) {
  auto m = new_module(ctx, entry, triple, data_layout);
  namespace abi = resample_abi;
  Slots slots{abi::kOut, abi::kTgtTimes, abi::kT, abi::kTgtRowStride,
              {PartSlots{abi::kData, abi::kSrcTimes, abi::kLengths, abi::kS, abi::kSrcRowStride}}};
  ResampleEmitter(*m, spec.dtype, spec.time_dtype, {Part{spec.dim, spec.effective_groups(), 0}}).emit(entry, slots);
  return m;
}

std::string fuse_entry_name(const FuseSpec& spec) {
  std::string tag;
  for (const Modality& mod : spec.modalities) tag += fmt::format("_{}{}", interp_name(mod.interp), mod.dim);
  std::string name =
      fmt::format("robocache_fuse_{}_time_{}_m{}{}", dtype_name(spec.dtype), dtype_name(spec.time_dtype),
                  spec.modalities.size(), tag);
  return bounded(name, fmt::format("robocache_fuse_{}_time_{}_m{}", dtype_name(spec.dtype), dtype_name(spec.time_dtype),
                                   spec.modalities.size()),
                 Spec(spec));
}

std::unique_ptr<llvm::Module> build_fuse_module(llvm::LLVMContext& ctx, const FuseSpec& spec, const std::string& entry,
                                                const std::string& triple, const std::string& data_layout) {
  auto m = new_module(ctx, entry, triple, data_layout);
  namespace abi = fuse_abi;
  Slots slots{abi::kOut, abi::kTgtTimes, abi::kT, abi::kTgtRowStride, {}};
  std::vector<Part> parts;
  for (std::size_t i = 0; i < spec.modalities.size(); ++i) {
    const Modality& mod = spec.modalities[i];
    int n = static_cast<int>(i);
    parts.push_back(Part{mod.dim, {ChannelGroup{0, mod.dim, mod.interp}}, spec.offset(i)});
    slots.parts.push_back(PartSlots{abi::modality_slot(n, abi::kData), abi::modality_slot(n, abi::kTimes),
                                    abi::modality_slot(n, abi::kLengths), abi::modality_slot(n, abi::kS),
                                    abi::modality_slot(n, abi::kTimesRowStride)});
  }
  ResampleEmitter(*m, spec.dtype, spec.time_dtype, std::move(parts)).emit(entry, slots);
  return m;
}

}  // namespace robocache::llvm_ir

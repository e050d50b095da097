#include "backends/cpu/jit_loader.h"

#include <atomic>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Support/Error.h>
#include <llvm/Support/MemoryBuffer.h>

#include "support/errors.h"
#include "backends/cpu/host_target.h"

namespace robocache::llvm_ir {

namespace {

std::string message_of(llvm::Error error) { return llvm::toString(std::move(error)); }

// Where the session's error reporter puts messages for the load running on this thread.
// Linking happens on the thread that looks the symbol up (no JIT worker threads), and the
// reporter gets the real cause ("Symbols not found: [ sinf ]") while the lookup only returns
// "Failed to materialize symbols".
thread_local std::string* t_session_errors = nullptr;

// Collects the reporter's messages during one load.
class SessionErrorScope {
 public:
  SessionErrorScope() { t_session_errors = &text_; }
  ~SessionErrorScope() { t_session_errors = nullptr; }
  SessionErrorScope(const SessionErrorScope&) = delete;
  SessionErrorScope& operator=(const SessionErrorScope&) = delete;
  /// `message` followed by whatever the session reported.
  std::string with(std::string message) const { return text_.empty() ? message : message + " (" + text_ + ")"; }

 private:
  std::string text_;
};

// One LLJIT for the process, so a load is only "link one object" and not "build a JIT"; each
// kernel lives in its own JITDylib, so identical symbol names from different kernels never
// clash and unloading one frees only its code.
class ProcessJit {
 public:
  static ProcessJit& get() {
    // Leaked on purpose: kernels held by other static objects may be destroyed after main.
    static ProcessJit* jit = new ProcessJit();
    return *jit;
  }

  std::unique_ptr<JitObject> load(std::string_view bytes, const std::string& symbol,
                                  JitObject* (*make)(void*, std::uint64_t)) {
    SessionErrorScope session_errors;
    std::string name = fmt::format("robocache.kernel.{}", next_id_.fetch_add(1));
    llvm::orc::JITDylib& dylib = jit_->getExecutionSession().createBareJITDylib(name);
    dylib.addToLinkOrder(*runtime_);
    auto buffer = llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(bytes.data(), bytes.size()), name);
    if (llvm::Error e = jit_->addObjectFile(dylib, std::move(buffer))) {
      std::string message = session_errors.with(message_of(std::move(e)));
      remove(&dylib);
      throw RuntimeFailure(fmt::format("loading the kernel object for '{}' into the JIT failed: {}", symbol, message));
    }
    auto found = jit_->lookup(dylib, symbol);
    if (!found) {
      std::string message = session_errors.with(message_of(found.takeError()));
      remove(&dylib);
      throw RuntimeFailure(fmt::format("linking kernel '{}' in the JIT failed: {}", symbol, message));
    }
    return std::unique_ptr<JitObject>(make(&dylib, found->getAddress()));
  }

  void remove(void* dylib) {
    // Errors here mean the code could not be freed; nothing useful can be done in a destructor.
    llvm::consumeError(jit_->getExecutionSession().removeJITDylib(*static_cast<llvm::orc::JITDylib*>(dylib)));
  }

 private:
  ProcessJit() {
    initialize_native_llvm();
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit) throw BackendUnavailable("could not create the LLVM JIT: " + message_of(jit.takeError()));
    jit_ = std::move(*jit);
    // Instead of printing "JIT session error: ..." to stderr, hand the message to the load
    // that caused it, which puts it in its exception.
    jit_->getExecutionSession().setErrorReporter([](llvm::Error e) {
      std::string message = message_of(std::move(e));
      if (!t_session_errors) return;
      if (!t_session_errors->empty()) *t_session_errors += "; ";
      *t_session_errors += message;
    });
    runtime_ = &jit_->getExecutionSession().createBareJITDylib("robocache.runtime");
    // The only outside symbols generated code may need: the backend's lowering of copy loops
    // and of llvm.fma on a CPU without FMA. Named explicitly rather than searching the whole
    // process, so an unexpected dependency fails at load with its name.
    // Slerp calls acos/sin, voxelize llvm.floor (a libcall without SSE4.1), and llvm.sqrt
    // may become one on some targets.
    using fma_t = double (*)(double, double, double);
    using fmaf_t = float (*)(float, float, float);
    using f64_fn = double (*)(double);
    using f32_fn = float (*)(float);
    auto address = [](auto* fn) {
      return llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(fn),
                                      llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
    };
    llvm::orc::SymbolMap symbols{
        {jit_->mangleAndIntern("memcpy"), address(&::memcpy)},
        {jit_->mangleAndIntern("memmove"), address(&::memmove)},
        {jit_->mangleAndIntern("memset"), address(&::memset)},
        {jit_->mangleAndIntern("fma"), address(static_cast<fma_t>(&::fma))},
        {jit_->mangleAndIntern("fmaf"), address(static_cast<fmaf_t>(&::fmaf))},
        {jit_->mangleAndIntern("sin"), address(static_cast<f64_fn>(&::sin))},
        {jit_->mangleAndIntern("sinf"), address(static_cast<f32_fn>(&::sinf))},
        {jit_->mangleAndIntern("cos"), address(static_cast<f64_fn>(&::cos))},
        {jit_->mangleAndIntern("cosf"), address(static_cast<f32_fn>(&::cosf))},
        {jit_->mangleAndIntern("acos"), address(static_cast<f64_fn>(&::acos))},
        {jit_->mangleAndIntern("acosf"), address(static_cast<f32_fn>(&::acosf))},
        {jit_->mangleAndIntern("sqrt"), address(static_cast<f64_fn>(&::sqrt))},
        {jit_->mangleAndIntern("sqrtf"), address(static_cast<f32_fn>(&::sqrtf))},
        {jit_->mangleAndIntern("floor"), address(static_cast<f64_fn>(&::floor))},
        {jit_->mangleAndIntern("floorf"), address(static_cast<f32_fn>(&::floorf))},
    };
    if (llvm::Error e = runtime_->define(llvm::orc::absoluteSymbols(std::move(symbols))))
      throw BackendUnavailable("could not set up the LLVM JIT's runtime symbols: " + message_of(std::move(e)));
  }

  std::unique_ptr<llvm::orc::LLJIT> jit_;
  llvm::orc::JITDylib* runtime_ = nullptr;
  std::atomic<std::uint64_t> next_id_{0};
};

}  // namespace

JitObject::~JitObject() { ProcessJit::get().remove(dylib_); }

std::unique_ptr<JitObject> jit_load_object(std::string_view bytes, const std::string& symbol) {
  return ProcessJit::get().load(bytes, symbol,
                                [](void* dylib, std::uint64_t address) { return new JitObject(dylib, address); });
}

}  // namespace robocache::llvm_ir

#pragma once
/// Links host object files into the process-wide ORC JIT.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace robocache::llvm_ir {

/// One object file linked into the JIT in its own JITDylib; unlinked (code freed) when destroyed.
class JitObject {
 public:
  /// Removes the object's JITDylib; the address must no longer be called.
  ~JitObject();
  JitObject(const JitObject&) = delete;
  JitObject& operator=(const JitObject&) = delete;

  /// Address of the symbol the object was loaded for.
  std::uint64_t address() const { return address_; }

 private:
  friend std::unique_ptr<JitObject> jit_load_object(std::string_view bytes, const std::string& symbol);
  JitObject(void* dylib, std::uint64_t address) : dylib_(dylib), address_(address) {}
  void* dylib_;  // llvm::orc::JITDylib*, opaque so this header needs no LLVM headers
  std::uint64_t address_;
};

/// Links a relocatable object (bytes) and resolves `symbol`; throws RuntimeFailure with LLVM's message.
/// Besides its own definitions the object may only call memcpy, memmove, memset, fma and fmaf.
std::unique_ptr<JitObject> jit_load_object(std::string_view bytes, const std::string& symbol);

}  // namespace robocache::llvm_ir

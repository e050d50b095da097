#pragma once
/// RAII for a device's primary context and for making a context current over a scope.
#include <cuda.h>

namespace robocache::cuda {

/// A retained reference to one device's primary context (the context the CUDA runtime, PyTorch
/// and CuPy share), released on destruction.
class PrimaryContext {
 public:
  /// Retains device `ordinal`'s primary context; throws RuntimeFailure naming the failing call.
  explicit PrimaryContext(int ordinal);
  ~PrimaryContext();
  PrimaryContext(const PrimaryContext&) = delete;
  PrimaryContext& operator=(const PrimaryContext&) = delete;

  /// The context handle.
  CUcontext get() const { return context_; }
  /// The device it belongs to.
  CUdevice device() const { return device_; }

 private:
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
};

/// Makes `context` current on this thread for the scope, then restores whatever the caller had
/// current (possibly none), so robocache never leaves a different context behind.
class ScopedContext {
 public:
  /// Switches only when `context` is not already current.
  explicit ScopedContext(CUcontext context);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  CUcontext previous_ = nullptr;
  bool switched_ = false;
};

}  // namespace robocache::cuda

#pragma once
/// The exceptions RoboCache throws, shared by the library's internals and its public C++ API.
/// SpecError and ArgumentError derive from std::invalid_argument, the rest from std::runtime_error,
/// so `catch (const std::exception&)` catches them all.
#include <stdexcept>
#include <string>
#include <utility>

namespace robocache {

/// A spec that does not parse or validate; `field()` names the offending field (Python: ValueError).
class SpecError : public std::invalid_argument {
 public:
  SpecError(std::string field, const std::string& message)
      : std::invalid_argument("spec field '" + field + "': " + message), field_(std::move(field)) {}
  /// Dotted path of the field at fault, e.g. "groups[1].size".
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

/// An array argument whose shape, dtype or device does not fit the kernel (Python: ValueError).
class ArgumentError : public std::invalid_argument {
 public:
  ArgumentError(std::string argument, const std::string& message)
      : std::invalid_argument("argument '" + argument + "': " + message),
        argument_(std::move(argument)) {}
  /// Name of the argument at fault, e.g. "src_times".
  const std::string& argument() const { return argument_; }

 private:
  std::string argument_;
};

/// A bad argument a CUDA kernel of an earlier call found on the device (a length out of range, a
/// NaN or decreasing source time), reported once by the next launch on that device or by a
/// synchronisation. Unlike other argument errors it is about data already consumed, so a caller
/// must not retry the call another way to get a better message: it rethrows it as it is.
class DeviceArgumentError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

/// Code generation or compilation failed (Python: robocache.CompileError).
class CompileError : public std::runtime_error {
 public:
  CompileError(std::string stage, std::string spec_json, std::string log, std::string options)
      : std::runtime_error("compile failed at stage '" + stage + "' for spec " + spec_json +
                           (log.empty() ? std::string() : "\n" + log)),
        stage_(std::move(stage)),
        spec_(std::move(spec_json)),
        log_(std::move(log)),
        options_(std::move(options)) {}
  /// Pipeline stage that failed ("generate", "nvrtc", "llvm-optimize", "load", ...).
  const std::string& stage() const { return stage_; }
  /// Canonical JSON of the spec being compiled.
  const std::string& spec() const { return spec_; }
  /// Compiler log.
  const std::string& log() const { return log_; }
  /// Compiler options used, as one string.
  const std::string& options() const { return options_; }

 private:
  std::string stage_, spec_, log_, options_;
};

/// A backend that cannot be used here (no driver, no GPU, built without LLVM); the message says why.
class BackendUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A driver or runtime call failed at launch or load time; the message names the call.
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace robocache

namespace robocache {

/// Strict cache mode found no compiled kernel for a spec (Python: robocache.CacheMissError).
class CacheMissError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace robocache

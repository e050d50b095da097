#pragma once
/// A shared library opened with dlopen, for the CUDA libraries the build does not link.
#include <string>
#include <string_view>
#include <vector>

namespace robocache::cuda {

/// An open shared library. It is never closed: the CUDA libraries must outlive every static
/// destructor that may still release a context or a program.
class DynamicLibrary {
 public:
  /// Opens the first of `candidates` (names or paths) that loads; throws BackendUnavailable that
  /// names `what` and lists every attempt with its dlerror text.
  static DynamicLibrary open_first(std::string_view what, const std::vector<std::string>& candidates);

  /// Address of `name`; throws BackendUnavailable when the library lacks it (older than the headers).
  void* require(const char* name) const;
  /// The candidate that loaded.
  const std::string& path() const { return path_; }
  /// The file the loader picked for it (a bare soname resolved to its full path), else path().
  std::string file() const;

 private:
  DynamicLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* handle_ = nullptr;
  std::string path_;
};

}  // namespace robocache::cuda

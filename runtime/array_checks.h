#pragma once
/// Checks shared by the ops' argument binders: dtype, layout, times, lengths. Each throws
/// ArgumentError naming the argument and saying what was expected and what came.
#include <cstdint>
#include <string>
#include <vector>

#include "compiler/dtype.h"
#include "runtime/array_view.h"

namespace robocache::checks {

/// The most elements one array (input, output or scratch) may hold: small enough that every
/// element and byte offset (up to 8-byte elements) fits the kernels' int64 index arithmetic.
inline constexpr std::int64_t kMaxElements = std::int64_t(1) << 60;

/// Product of `dims` without overflow; throws ArgumentError(name) when a dim is negative or the
/// product exceeds kMaxElements. `what` describes the dims in the message ("shape", "output").
std::int64_t element_count(const char* name, const std::vector<std::int64_t>& dims,
                           const char* what = "shape");

/// The array's shape must be non-negative with at most kMaxElements elements; returns the count.
std::int64_t size(const char* name, const ArrayView& a);

/// True when an optional input was not given (the bindings pass an empty shape).
inline bool absent(const ArrayView& a) { return a.shape.empty() && a.data == nullptr; }

/// The array's dtype must be `want` (the compiled spec's).
void dtype(const char* name, const ArrayView& a, DType want);

/// The array must be dense row-major (the Python layer copies strided inputs).
void contiguous(const char* name, const ArrayView& a);

/// The array must live where `ref` lives.
void same_device(const char* name, const ArrayView& a, const char* ref_name, const ArrayView& ref);

/// Times are [rows, n] (per row) or [n] (shared by the batch); returns the row stride in elements.
/// n < 0 accepts any length (target times); the chosen length is `a.shape.back()`.
std::int64_t time_row_stride(const char* name, const ArrayView& t, std::int64_t batch, std::int64_t n);

/// Rejects decreasing or NaN source times (host memory only). `lengths` (may be null) limits each row.
void sorted_times(const char* name, const ArrayView& t, DType time_dtype, std::int64_t batch,
                  std::int64_t n, std::int64_t row_stride, const std::int64_t* lengths);

/// Lengths are int64 [batch]; on the host each must lie in [lo, hi]. Returns the host pointer or null.
const std::int64_t* lengths(const char* name, const ArrayView& l, std::int64_t batch, std::int64_t lo,
                            std::int64_t hi);

}  // namespace robocache::checks

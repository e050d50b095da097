#pragma once
/// Conversions between the public API's value types and the library's internal ones.
#include "compiler/dtype.h"
#include "robocache/array.h"
#include "robocache/dtype.h"
#include "runtime/array_view.h"

namespace robocache::api {

/// The internal dtype of a public one.
robocache::DType to_internal(DType t);
/// The public dtype of an internal one.
DType to_public(robocache::DType t);
/// A public array as the runtime's borrowed view.
ArrayView to_view(const Array& a);

}  // namespace robocache::api

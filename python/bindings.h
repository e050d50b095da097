#pragma once
/// Registration functions, one per area; the module definition calls each once.
#include <pybind11/pybind11.h>

namespace robocache::python {

/// Exceptions: CompileError, BackendUnavailable, and the C++ → Python mapping.
void bind_errors(pybind11::module_& m);
/// compile() and the native Kernel class.
void bind_kernel(pybind11::module_& m);
/// Cache directory maintenance: list, gc, clear, export, import.
void bind_cache(pybind11::module_& m);
/// DLPack capsules consumed without any framework: dlpack_view().
void bind_dlpack(pybind11::module_& m);
/// The tuning database, config spaces and SM counts, for robocache.tuning.
void bind_tuning(pybind11::module_& m);
/// The short call paths for numpy arrays and torch tensors (launch_fast, resample_fast, fuse_fast), the
/// kernel table of the high-level calls (remember) and bound calls (bind).
void bind_launch(pybind11::module_& m);
/// The CPU thread policy: set_num_threads, get_num_threads, the DataLoader-worker probe.
void bind_threads(pybind11::module_& m);
/// Evaluates the thread policy now, with the GIL held (its DataLoader-worker probe asks Python);
/// called before a call releases the GIL to run kernels. Cheap after the first time.
void settle_thread_policy();
/// The clock, mask and packing passes of robocache.io.align (io_repair, io_stream_mask, ...).
void bind_io(pybind11::module_& m);
/// align's direct resampling of linear, previous, nearest and wrapped streams (io_resample_into).
void bind_io_resample(pybind11::module_& m);
/// Backend probes and cache statistics.
void bind_status(pybind11::module_& m);

}  // namespace robocache::python

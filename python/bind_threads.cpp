// The CPU thread policy for Python: robocache.set_num_threads / get_num_threads, and the probe that
// recognises a PyTorch DataLoader worker (so each worker's launches use one thread).
#include <stdexcept>

#include <pybind11/pybind11.h>

#include "python/bindings.h"
#include "backends/cpu/thread_pool.h"

namespace py = pybind11;

namespace robocache::python {

namespace {

// 1 inside a DataLoader worker (torch.utils.data.get_worker_info() is set), 0 outside. Looks
// torch up in sys.modules only, never imports it. Asks only on a thread that holds the GIL
// (taking it from inside a launch could deadlock against a thread that holds it and waits for
// that launch); -1 elsewhere, and the policy asks again at a later launch. The calls below
// settle it before they release the GIL.
int torch_worker_probe() {
  if (!Py_IsInitialized() || !PyGILState_Check()) return -1;
  try {
    py::dict modules = py::module_::import("sys").attr("modules");
    if (!modules.contains("torch.utils.data")) return 0;
    py::object info = modules["torch.utils.data"].attr("get_worker_info")();
    return info.is_none() ? 0 : 1;
  } catch (const py::error_already_set&) {
    return 0;  // an odd torch: fall back to the other rules
  }
}

}  // namespace

void settle_thread_policy() { thread_count_in_force(); }

void bind_threads(py::module_& m) {
  set_worker_probe(&torch_worker_probe);
  m.def(
      "set_num_threads",
      [](int n) {
        try {
          set_thread_count(n);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(std::string("argument 'n': ") + e.what());
        }
      },
      py::arg("n"));
  m.def("get_num_threads", [] {
    try {
      return thread_count_in_force();
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  });
  m.def("num_threads_reason", [] {
    try {
      return std::string(thread_count_reason());
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  });
}

}  // namespace robocache::python

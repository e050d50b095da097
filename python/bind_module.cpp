#include "python/bindings.h"

PYBIND11_MODULE(_robocache, m) {
  m.doc() = "RoboCache native module (use the robocache package instead).";
  robocache::python::bind_errors(m);
  robocache::python::bind_kernel(m);
  robocache::python::bind_status(m);
  robocache::python::bind_threads(m);
  robocache::python::bind_cache(m);
  robocache::python::bind_tuning(m);
  robocache::python::bind_dlpack(m);
  robocache::python::bind_launch(m);
  robocache::python::bind_io(m);
}

#include "compiler/errors.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {

namespace {
// Owned for the life of the process: module-level exception types are never destroyed.
PyObject* g_compile_error = nullptr;
PyObject* g_backend_unavailable = nullptr;
PyObject* g_cache_miss = nullptr;
}  // namespace

void bind_errors(py::module_& m) {
  g_compile_error = py::exception<CompileError>(m, "CompileError", PyExc_RuntimeError).release().ptr();
  g_backend_unavailable =
      py::exception<BackendUnavailable>(m, "BackendUnavailable", PyExc_RuntimeError).release().ptr();
  g_cache_miss = py::exception<CacheMissError>(m, "CacheMissError", PyExc_RuntimeError).release().ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CompileError& e) {
      py::object err = py::handle(g_compile_error)(e.what());
      err.attr("stage") = e.stage();
      err.attr("spec") = e.spec();
      err.attr("log") = e.log();
      err.attr("options") = e.options();
      PyErr_SetObject(g_compile_error, err.ptr());
    } catch (const BackendUnavailable& e) {
      PyErr_SetString(g_backend_unavailable, e.what());
    } catch (const CacheMissError& e) {
      PyErr_SetString(g_cache_miss, e.what());
    }
    // SpecError and ArgumentError derive from std::invalid_argument: pybind11 raises ValueError.
  });
}

}  // namespace robocache::python

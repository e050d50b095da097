#include <cstring>

#include "support/errors.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {

namespace {
// Owned for the life of the process: module-level exception types are never destroyed.
PyObject* g_compile_error = nullptr;
PyObject* g_backend_unavailable = nullptr;
PyObject* g_cache_miss = nullptr;

// Sets a Python exception from a C++ message. The message is decoded as UTF-8 with invalid bytes
// escaped, so an odd byte that reached a message (a file name, say) can never replace the real
// error with a UnicodeDecodeError.
void set_error(PyObject* type, const char* what) {
  py::object text = py::reinterpret_steal<py::object>(
      PyUnicode_DecodeUTF8(what, static_cast<Py_ssize_t>(std::strlen(what)), "backslashreplace"));
  if (!text) return;  // MemoryError is already set
  PyErr_SetObject(type, text.ptr());
}

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
      py::object err = py::handle(g_compile_error)(
          py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(e.what(), std::strlen(e.what()), "backslashreplace")));
      err.attr("stage") = e.stage();
      err.attr("spec") = e.spec();
      err.attr("log") = e.log();
      err.attr("options") = e.options();
      PyErr_SetObject(g_compile_error, err.ptr());
    } catch (const BackendUnavailable& e) {
      set_error(g_backend_unavailable, e.what());
    } catch (const CacheMissError& e) {
      set_error(g_cache_miss, e.what());
    } catch (const std::invalid_argument& e) {
      // SpecError and ArgumentError derive from std::invalid_argument: ValueError, as pybind11 does.
      set_error(PyExc_ValueError, e.what());
    } catch (const std::domain_error& e) {
      set_error(PyExc_ValueError, e.what());
    } catch (const py::builtin_exception&) {
      throw;  // pybind11's own types (py::type_error, ...) keep their Python type
    } catch (const py::error_already_set&) {
      throw;
    } catch (const std::runtime_error& e) {
      set_error(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace robocache::python

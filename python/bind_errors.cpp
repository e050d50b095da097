#include "compiler/errors.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {

void bind_errors(py::module_& m) {
  static py::exception<CompileError> compile_error(m, "CompileError", PyExc_RuntimeError);
  static py::exception<BackendUnavailable> unavailable(m, "BackendUnavailable", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CompileError& e) {
      py::object err = compile_error(e.what());
      err.attr("stage") = e.stage();
      err.attr("spec") = e.spec();
      err.attr("log") = e.log();
      err.attr("options") = e.options();
      PyErr_SetObject(compile_error.ptr(), err.ptr());
    } catch (const BackendUnavailable& e) {
      unavailable(e.what());
    }
    // SpecError and ArgumentError derive from std::invalid_argument: pybind11 raises ValueError.
  });
}

}  // namespace robocache::python

#include <Python.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support/errors.h"
#include "python/bindings.h"

namespace py = pybind11;

namespace robocache::python {

namespace {

// The DLPack ABI (dlpack.h, v0.8 layout of the unversioned "dltensor" capsule). It is a frozen
// C ABI, so declaring the few structs here spares a vendored header.
struct DLDevice {
  std::int32_t device_type;
  std::int32_t device_id;
};
struct DLDataType {
  std::uint8_t code;
  std::uint8_t bits;
  std::uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t* shape;
  std::int64_t* strides;
  std::uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};

constexpr std::int32_t kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13;
constexpr std::uint8_t kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4;

std::optional<std::string> dtype_of(const DLDataType& t) {
  if (t.lanes != 1) return std::nullopt;
  if (t.code == kDLFloat) return t.bits == 16 ? "f16" : t.bits == 32 ? "f32" : t.bits == 64 ? std::optional<std::string>("f64") : std::nullopt;
  if (t.code == kDLBfloat && t.bits == 16) return "bf16";
  if (t.code == kDLInt) return t.bits == 32 ? "i32" : t.bits == 64 ? std::optional<std::string>("i64") : std::nullopt;
  if (t.code == kDLUInt && t.bits == 8) return "u8";
  return std::nullopt;
}

// Pinned host memory is ordinary CPU memory to the kernels; managed memory is used as device memory.
std::optional<std::string> device_of(std::int32_t type) {
  if (type == kDLCPU || type == kDLCUDAHost) return "cpu";
  if (type == kDLCUDA || type == kDLCUDAManaged) return "cuda";
  return std::nullopt;
}

void release(PyObject* owner) {
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(owner, "robocache.dltensor"));
  if (m && m->deleter) m->deleter(m);
}

}  // namespace

void bind_dlpack(py::module_& m) {
  m.def(
      "dlpack_view",
      [](py::capsule capsule, const std::string& name) {
        // The consumer side of the DLPack protocol: take ownership of the DLManagedTensor by renaming
        // the capsule "used_dltensor", and hand the caller an owner that calls the deleter when freed.
        auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
        if (!managed) {
          PyErr_Clear();
          throw ArgumentError(name, "__dlpack__() returned a capsule that is not an unconsumed 'dltensor'");
        }
        if (PyCapsule_SetName(capsule.ptr(), "used_dltensor") != 0) throw py::error_already_set();
        py::object owner = py::reinterpret_steal<py::object>(PyCapsule_New(managed, "robocache.dltensor", release));
        if (!owner) {
          managed->deleter(managed);
          throw py::error_already_set();
        }
        const DLTensor& t = managed->dl_tensor;
        auto dtype = dtype_of(t.dtype);
        if (!dtype)
          throw py::type_error("argument '" + name + "': unsupported DLPack dtype (code " + std::to_string(t.dtype.code) + ", bits " +
                                       std::to_string(t.dtype.bits) + ", lanes " + std::to_string(t.dtype.lanes) + ")");
        auto device = device_of(t.device.device_type);
        if (!device)
          throw py::type_error("argument '" + name + "': DLPack device type " + std::to_string(t.device.device_type) +
                                       " is not supported (CPU or CUDA memory only)");
        std::vector<std::int64_t> shape(t.shape, t.shape + t.ndim);
        std::optional<std::vector<std::int64_t>> strides;
        if (t.strides && t.ndim > 0) strides.emplace(t.strides, t.strides + t.ndim);
        auto ptr = reinterpret_cast<std::uintptr_t>(t.data) + t.byte_offset;
        return py::make_tuple(ptr, *dtype, shape, strides, *device, t.device.device_id, owner);
      },
      py::arg("capsule"), py::arg("name"),
      "Consumes a DLPack capsule: (pointer, dtype, shape, strides or None, 'cpu'|'cuda', device index, owner).");
}

}  // namespace robocache::python

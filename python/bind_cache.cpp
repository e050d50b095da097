#include <pybind11/stl.h>

#include "cache/cache_maintenance.h"
#include "python/bindings.h"
#include "runtime/engine.h"

namespace py = pybind11;

namespace robocache::python {

namespace {

const DiskCache& directory() {
  const DiskCache* d = Engine::global().cache().directory();
  // The environment, not the command, is at fault: RuntimeError (the CLI's exit status 3).
  if (!d) throw std::runtime_error("the cache directory layer is disabled (ROBOCACHE_CACHE_DIR is empty)");
  if (auto why = d->refusal()) throw std::runtime_error("refusing to use the cache directory: " + *why);
  return *d;
}

}  // namespace

void bind_cache(py::module_& m) {
  m.def("cache_info", [] {
    const CacheOptions& o = Engine::global().cache().options();
    std::vector<std::string> bundles;
    for (const auto& b : o.bundles) bundles.push_back(b.string());
    const DiskCache* d = Engine::global().cache().directory();
    return py::dict(py::arg("dir") = o.dir.string(), py::arg("mode") = cache_mode_name(o.mode),
                    py::arg("bundles") = bundles, py::arg("max_bytes") = o.max_bytes,
                    py::arg("size_bytes") = d ? cache_size_bytes(*d) : 0);
  });
  m.def("cache_entries", [](bool check) {
    py::list out;
    for (const auto& e : list_cache_entries(directory(), check))
      out.append(py::dict(py::arg("key") = e.key, py::arg("path") = e.path.string(),
                          py::arg("bytes") = e.bytes, py::arg("last_used_ns") = e.last_used_ns,
                          py::arg("valid") = e.valid, py::arg("problem") = e.problem,
                          py::arg("format") = e.format, py::arg("target") = e.target,
                          py::arg("spec") = e.spec_json, py::arg("toolchain") = e.toolchain));
    return out;
  }, py::arg("check") = true);
  m.def("cache_gc", [](std::optional<std::uint64_t> max_bytes) {
    GcReport r = gc_cache(directory(), max_bytes.value_or(Engine::global().cache().options().max_bytes));
    return py::dict(py::arg("bad_removed") = r.bad_removed, py::arg("evicted") = r.evicted,
                    py::arg("stale_removed") = r.stale_removed);
  }, py::arg("max_bytes") = py::none());
  m.def("cache_clear", [] { return clear_cache(directory()); });
  m.def("cache_export", [](const std::string& path, std::optional<std::vector<std::string>> keys) {
    return keys ? export_cache_bundle(directory(), path, *keys) : export_cache_bundle(directory(), path);
  }, py::arg("path"), py::arg("keys") = py::none(),
        "Writes the directory's valid entries (or only those of `keys`) into one bundle file.");
  m.def("cache_import", [](const std::string& path) { return import_cache_bundle(directory(), path); });
}

}  // namespace robocache::python

#include <filesystem>

#include <pybind11/stl.h>

#include "python/bindings.h"
#include "runtime/engine.h"

namespace py = pybind11;

namespace robocache::python {

void bind_tuning(py::module_& m) {
  m.def("tuning_path", [] { return Engine::global().tuning_path().string(); },
        "The tuning database file ('' when it is kept in memory only).");
  m.def("tuning_db_json", [] { return Engine::global().tuning().to_json().dump(); },
        "The whole tuning database as JSON text.");
  m.def("tuning_key",
        [](const std::string& spec_json, const std::string& target) {
          TuningKey k = Engine::global().tuning_key(Spec::parse(spec_json), target);
          return py::dict(py::arg("spec_hash") = k.spec_hash, py::arg("target") = k.target,
                          py::arg("sm_count") = k.sm_count, py::arg("toolchain") = k.toolchain);
        },
        py::arg("spec_json"), py::arg("target"), "What a tuning result for spec on target is stored under.");
  m.def("tuning_get",
        [](const std::string& spec_json, const std::string& target) -> std::optional<std::string> {
          const TuningKey key = Engine::global().tuning_key(Spec::parse(spec_json), target);
          auto e = Engine::global().tuning().find(key);
          if (!e) return std::nullopt;
          return e->to_json().dump();
        },
        py::arg("spec_json"), py::arg("target"), "The stored entry (JSON text) for spec on target, or None.");
  m.def("tuning_put",
        [](const std::string& entry_json) {
          TuningEntry e = TuningEntry::from_json(Json::parse(entry_json));
          Engine::global().update_tuning([&](TuningDb& db) { db.put(e); });
        },
        py::arg("entry_json"), "Stores an entry (replacing its key's) and saves the database.");
  m.def("tuning_export",
        [](const std::string& path) {
          TuningDb db = Engine::global().tuning();
          db.save(path);
          return db.size();
        },
        py::arg("path"), "Writes the database to a file; returns the number of entries.");
  m.def("tuning_import",
        [](const std::string& path) {
          if (!std::filesystem::exists(path)) throw std::invalid_argument("tuning import: no file " + path);
          TuningDb incoming = TuningDb::load(path);
          int n = 0;
          Engine::global().update_tuning([&](TuningDb& db) { n = db.merge(incoming); });
          return n;
        },
        py::arg("path"), "Merges a database file in (its entries win); returns how many it held.");
  m.def("tuning_clear",
        [] {
          std::size_t n = 0;
          Engine::global().update_tuning([&](TuningDb& db) {
            n = db.size();
            db = TuningDb();
          });
          return n;
        },
        "Removes every entry; returns how many there were.");
  m.def("tuning_reload", [] { Engine::global().reload_tuning(); }, "Re-reads the database file.");
  m.def("config_space",
        [](const std::string& spec_json, const std::string& target) {
          Spec spec = Spec::parse(spec_json);
          std::vector<std::string> out;
          for (const Config& c : Engine::global().backend(target)->config_space(spec)) out.push_back(c.canonical_json());
          return out;
        },
        py::arg("spec_json"), py::arg("target"), "The configs the tuner sweeps (JSON text), heuristic first.");
  m.def("choose_config",
        [](const std::string& spec_json, const std::string& target) {
          return Engine::global().choose_config(Spec::parse(spec_json), target).canonical_json();
        },
        py::arg("spec_json"), py::arg("target"), "The config compile() would use now (JSON text).");
  m.def("sm_count", [](const std::string& target) { return Engine::global().sm_count(target); },
        py::arg("target"), "The SM count in tuning keys for a target (CPU: thread pool size).");
}

}  // namespace robocache::python

"""scripts/check_layers.py (run by scripts/test.sh): an include that points up a layer, or across
between the two backends, fails the check naming file and line; the repository passes it."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
check_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_layers)


def tree(tmp_path: Path, files: dict) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_the_repository_has_no_upward_include():
    assert check_layers.violations(ROOT) == []


def test_a_lower_layer_including_a_higher_one_is_named_by_file_and_line(tmp_path):
    root = tree(tmp_path, {
        "support/json.h": "#pragma once\n",
        "runtime/engine.h": '#pragma once\n#include "support/json.h"\n',
        "compiler/spec.cpp": '#include "support/json.h"\n\n#include "runtime/engine.h"\n',
    })
    assert check_layers.violations(root) == [
        "compiler/spec.cpp:3: compiler includes the higher layer runtime (runtime/engine.h)"]
    assert check_layers.main(["check_layers.py", str(root)]) == 1


def test_one_backend_including_the_other_is_a_violation(tmp_path):
    root = tree(tmp_path, {
        "backends/cpu/thread_pool.h": "#pragma once\n",
        "backends/cuda/cuda_kernel.cpp": '#include "backends/cpu/thread_pool.h"\n',
    })
    assert check_layers.violations(root) == [
        "backends/cuda/cuda_kernel.cpp:1: backends/cuda includes its peer backends/cpu (backends/cpu/thread_pool.h)"]


def test_includes_beside_the_file_resolve_and_tests_are_not_checked(tmp_path):
    root = tree(tmp_path, {
        "templates/common.cuh": "#pragma once\n",
        "templates/resample.cuh": '#include "common.cuh"\n',
        "support/log.cpp": '#include <vector>\n#include "not/in/tree.h"\n',
        "tests/cpp/x_test.cpp": '#include "python/bindings.h"\n',
        "python/bindings.h": "#pragma once\n",
    })
    assert check_layers.violations(root) == []
    assert check_layers.main(["check_layers.py", str(root)]) == 0

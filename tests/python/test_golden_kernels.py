"""The generated CUDA C++ and LLVM IR of tests/golden/kernel_specs.json are byte for byte the
committed ones (tests/golden/kernel_hashes.json): moving or splitting the generators must not
change a kernel.

An intended kernel change (a template or generator edit) regenerates the goldens in the same
commit: `python scripts/golden_kernels.py --update`. Template tuning happens on other branches
at the same time, so after merging one of them the goldens are regenerated too.
"""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("golden_kernels", ROOT / "scripts" / "golden_kernels.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

EXPECTED = json.loads(golden.HASHES.read_text(encoding="utf-8"))
SPECS = golden.load_specs()


def test_manifest_covers_every_op_mode_and_dtype():
    ops = {s["op"] for s in SPECS}
    interps = {s.get("interp") for s in SPECS} | {m["interp"] for s in SPECS for m in s.get("modalities", [])}
    interps |= {g["interp"] for s in SPECS for g in s.get("groups", [])}
    voxel_modes = {s["mode"] for s in SPECS if s["op"] == "voxelize"}
    dtypes = {s.get("dtype") for s in SPECS}
    assert ops == {"resample", "fuse", "voxelize"}
    assert {"linear", "nearest", "previous", "cubic", "slerp"} <= interps
    assert voxel_modes == {"occupancy", "count", "mean", "max"}
    assert {"f16", "bf16", "f32", "f64"} <= dtypes
    assert any("groups" in s for s in SPECS)
    assert any(len(s.get("modalities", [])) == 3 for s in SPECS)


def test_every_spec_has_a_golden_hash_per_backend():
    keys = {golden.spec_key(s) for s in SPECS}
    for section, _, _ in golden.FORMS:
        assert set(EXPECTED[section]) == keys, f"{section}: rerun scripts/golden_kernels.py --update"


@pytest.mark.parametrize("section,target,form", golden.FORMS)
def test_generated_code_matches_the_golden_hashes(section, target, form):
    why = golden.unavailable(target)
    if why:
        pytest.skip(why)
    actual, _ = golden.generate(SPECS, forms=[(section, target, form)])
    problems = golden.compare({section: EXPECTED[section]}, {section: actual[section]})
    assert not problems, "\n".join(problems) + "\n(intended? python scripts/golden_kernels.py --update)"


def test_compare_names_a_changed_kernel():
    key = golden.spec_key(SPECS[0])
    problems = golden.compare({"cpu_llvm_ir": {key: "0" * 64}}, {"cpu_llvm_ir": {key: "1" * 64}})
    assert problems == [f"cpu_llvm_ir: generated code changed for {key}"]

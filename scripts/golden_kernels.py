#!/usr/bin/env python3
"""The generated kernels' golden identity: SHA-256 of the CUDA C++ (sm_90) and the LLVM IR that the
code generators write for every spec of tests/golden/kernel_specs.json, against
tests/golden/kernel_hashes.json.

    python scripts/golden_kernels.py            # check; exit 1 naming each spec whose code changed
    python scripts/golden_kernels.py --update   # rewrite kernel_hashes.json (an intended kernel change)
    python scripts/golden_kernels.py --dump DIR # also write each generated text into DIR, for a diff

A restructuring of the source tree must leave every hash as it is (tests/python/test_golden_kernels.py
runs the check). A change to a template or a generator changes some on purpose: run --update in
the same commit and say why in its message. Merging a branch that changes kernels into one that
does not (or both) leaves the merged goldens stale: regenerate them after the merge.

Only generation runs (Backend::generate with the default config, through `robocache._native.emit`):
nothing is compiled, so this needs NVRTC's library to make the CUDA backend but no GPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "tests" / "golden" / "kernel_specs.json"
HASHES = ROOT / "tests" / "golden" / "kernel_hashes.json"

# (golden section, robocache target, emit form): what each backend's generator writes.
FORMS = [("cuda_sm_90_source", "sm_90", "source"), ("cpu_llvm_ir", "cpu", "ir")]


def spec_key(spec: dict) -> str:
    """The manifest entry as compact sorted JSON: the golden file's key for that spec."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def load_specs(path: Path = SPECS) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["specs"]


def unavailable(target: str) -> str:
    """Empty when `target`'s backend can be made here, else why not."""
    from robocache import _native

    try:
        _native.emit(json.dumps({"op": "resample", "dtype": "f32", "time_dtype": "f32", "dim": 1,
                                 "interp": "linear"}), target, "source" if target != "cpu" else "ir")
    except Exception as e:  # BackendUnavailable: no NVRTC or no LLVM plugin in this build
        return f"{type(e).__name__}: {e}"
    return ""


def generate(specs: list[dict], dump: Path | None = None, forms=FORMS) -> tuple[dict, dict]:
    """({section: {spec key: sha256}}, {section: why it was skipped}) for every available backend."""
    from robocache import _native

    hashes: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    for section, target, form in forms:
        why = unavailable(target)
        if why:
            skipped[section] = why
            continue
        hashes[section] = {}
        for i, spec in enumerate(specs):
            text = _native.emit(json.dumps(spec), target, form)
            hashes[section][spec_key(spec)] = hashlib.sha256(text.encode()).hexdigest()
            if dump is not None:
                dump.mkdir(parents=True, exist_ok=True)
                suffix = "cu" if form == "source" else "ll"
                (dump / f"{i:02d}_{spec['op']}.{section}.{suffix}").write_text(text, encoding="utf-8")
    return hashes, skipped


def compare(expected: dict, actual: dict) -> list[str]:
    """One line per spec whose generated code differs from (or is missing in) the golden file."""
    problems = []
    for section, got in actual.items():
        want = expected.get(section, {})
        for key, digest in got.items():
            if key not in want:
                problems.append(f"{section}: no golden hash for {key}")
            elif want[key] != digest:
                problems.append(f"{section}: generated code changed for {key}")
        for key in want.keys() - got.keys():
            problems.append(f"{section}: golden hash for a spec no longer in the manifest: {key}")
    return problems


def write(hashes: dict, path: Path = HASHES) -> None:
    doc = {"comment": "SHA-256 of the generated kernels of kernel_specs.json; written by "
                      "`python scripts/golden_kernels.py --update` (see its docstring)."}
    doc.update({section: dict(sorted(h.items())) for section, h in sorted(hashes.items())})
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the golden hashes")
    parser.add_argument("--dump", type=Path, help="write every generated text into this folder")
    args = parser.parse_args(argv)
    actual, skipped = generate(load_specs(), args.dump)
    for section, why in skipped.items():
        print(f"golden_kernels: {section} skipped: {why}", file=sys.stderr)
    if args.update:
        if skipped:
            print("golden_kernels: --update needs every backend (both sections); not written", file=sys.stderr)
            return 1
        write(actual)
        print(f"golden_kernels: wrote {HASHES.relative_to(ROOT)}", file=sys.stderr)
        return 0
    expected = json.loads(HASHES.read_text(encoding="utf-8"))
    problems = compare(expected, actual)
    for p in problems:
        print(p)
    if problems:
        print("golden_kernels: generated kernels differ; if intended, run "
              "`python scripts/golden_kernels.py --update`", file=sys.stderr)
        return 1
    print(f"golden_kernels: {sum(len(h) for h in actual.values())} generated kernels match", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

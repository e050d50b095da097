#!/usr/bin/env python3
"""Fails when a C++ file includes one of a higher layer: includes only point down.

    python scripts/check_layers.py [ROOT]

Reads every `#include "..."` of the C++ and CUDA sources under ROOT (default: the repository),
resolves it to a file of the tree (from ROOT, or beside the including file), and prints
`file:line: <layer> includes <higher layer> (path)` for each include that points up, or sideways
between two peers of one level (the CUDA and CPU backends know nothing of each other).
Exit status 1 when there is any; tests/, bench/ and examples/ may include anything.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The one declaration of the layer order, lowest first. A level lists its peers: folders (or single
# files) at the same height that must not include each other. A file belongs to the longest
# prefix that names it; files under no prefix (tests, bench, examples, the build) are not checked.
LAYERS: list[list[str]] = [
    ["include/robocache"],  # the installed public headers: they include only each other
    ["support"],  # json, sha256, log, user_text, errors: ground floor
    ["templates"],  # the CUDA templates and their embedding
    ["compiler"],  # specs, configs, the kernel ABIs, the Backend interface
    ["backends/cuda", "backends/cpu"],  # one vertical slice per backend, behind compiler/backend.h
    ["cache"],  # the kernel cache and the tuning database
    ["runtime"],  # engine, compiled kernels, argument checks
    ["api"],  # the public C++ API's implementation
    ["python"],  # the pybind11 module
]

SOURCE_SUFFIXES = {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def unit_of(rel: str) -> tuple[int, str] | None:
    """(level, peer prefix) of a source-relative path, or None when no layer holds it."""
    best: tuple[int, str] | None = None
    for level, peers in enumerate(LAYERS):
        for prefix in peers:
            if (rel == prefix or rel.startswith(prefix + "/")) and (best is None or len(prefix) > len(best[1])):
                best = (level, prefix)
    return best


def resolve(root: Path, including: Path, name: str) -> str | None:
    """The source-relative path an include names, or None when it is not a file of the tree."""
    for base in (root, root / "include", including.parent):
        candidate = (base / name).resolve()
        if candidate.is_file():
            try:
                return candidate.relative_to(root.resolve()).as_posix()
            except ValueError:
                return None
    return None


def sources(root: Path):
    """The C++/CUDA files of the layers' folders (nothing else is walked: no build or venv trees)."""
    found = set()
    for prefix in {p for peers in LAYERS for p in peers}:
        base = root / prefix
        found.update(p for p in (base.rglob("*") if base.is_dir() else [base])
                     if p.suffix in SOURCE_SUFFIXES and p.is_file())
    return sorted(found)


def violations(root: Path) -> list[str]:
    """One line per include that points up a layer or across to a peer."""
    root = root.resolve()
    problems = []
    for path in sources(root):
        rel = path.relative_to(root).as_posix()
        here = unit_of(rel)
        if here is None:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = resolve(root, path, m.group(1))
            there = unit_of(target) if target else None
            if there is None or there[1] == here[1]:
                continue
            if there[0] > here[0]:
                problems.append(f"{rel}:{number}: {here[1]} includes the higher layer {there[1]} ({m.group(1)})")
            elif there[0] == here[0]:
                problems.append(f"{rel}:{number}: {here[1]} includes its peer {there[1]} ({m.group(1)})")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = violations(root)
    for p in problems:
        print(p)
    if problems:
        order = " < ".join("|".join(peers) for peers in LAYERS)
        print(f"check_layers: {len(problems)} include(s) point up; the order (scripts/check_layers.py): {order}",
              file=sys.stderr)
        return 1
    print("check_layers: every include points down", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Shapes files and the synthetic inputs `robocache tune` times each spec on.

A shapes file is a JSON object keyed by op; each op lists the shapes to tune on:

    {"resample": [{"B": 32, "S": 500, "T": 256}],
     "fuse":     [{"B": 4, "S": [30, 100, 200], "T": 50}],
     "voxelize": [{"B": 1, "N": 500000, "grid": [64, 64, 32]}]}

- resample: B rows of S source samples resampled onto T targets (D comes from the spec).
- fuse: S is one source length per modality (or one int for all of them).
- voxelize: N points per cloud, B clouds (omit B for one unbatched cloud), grid (X, Y, Z), default
  [64, 64, 32]; points are spread over the whole grid.

Times are sorted random values, data are random normal values, in the spec's dtypes: numpy arrays
for the CPU, torch tensors for CUDA.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._native import _robocache as _native

_KEYS = {"resample": ({"B", "S", "T"}, set()), "fuse": ({"B", "S", "T"}, set()),
         "voxelize": ({"N"}, {"B", "grid"})}
_DEFAULT_GRID = [64, 64, 32]


MAX_ELEMENTS = 1 << 31  # per synthetic array, before the spec's channel count multiplies it


def _elements(op: str, s: dict) -> dict[str, int]:
    """Element counts (without channels) of the arrays a shape asks for."""
    B = s.get("B", 1)
    if op == "voxelize":
        grid = s.get("grid", _DEFAULT_GRID)
        return {"points": B * s["N"] * 3, "grid": B * grid[0] * grid[1] * grid[2]}
    if op in ("resample", "fuse"):
        S = max(s["S"]) if isinstance(s["S"], list) else s["S"]
        return {"source rows": B * S, "target rows": B * s["T"]}
    raise ValueError(f"shapes: no synthetic inputs for op '{op}'")


def load_shapes(path: str | Path) -> dict[str, list[dict]]:
    """Reads and checks a shapes file; errors name the entry at fault."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise ValueError(f"shapes {path}: invalid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"shapes {path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return check_shapes(data)


def check_shapes(data) -> dict[str, list[dict]]:
    """Validates a shapes document (see the module doc)."""
    if not isinstance(data, dict):
        raise ValueError("shapes: expected a JSON object keyed by op")
    for op, shapes in data.items():
        if op not in _KEYS:
            shown = repr(op)[1:-1]
            shown = shown if len(shown) <= 40 else shown[:40] + "..."
            raise ValueError(f"shapes: unknown op '{shown}' (expected {', '.join(_KEYS)})")
        if not isinstance(shapes, list) or not shapes:
            raise ValueError(f"shapes.{op}: expected a non-empty list of shapes")
        required, optional = _KEYS[op]
        for i, s in enumerate(shapes):
            where = f"shapes.{op}[{i}]"
            if not isinstance(s, dict) or not required <= set(s) or set(s) - required - optional:
                raise ValueError(f"{where}: expected keys {sorted(required)}"
                                 + (f" and optionally {sorted(optional)}" if optional else "") + f", got {s!r}")
            for k, v in s.items():
                values = v if isinstance(v, list) else [v]
                if not values or not all(isinstance(x, int) and x > 0 for x in values):
                    raise ValueError(f"{where}.{k}: expected a positive integer{' or a list of them' if k in ('S', 'grid') else ''}")
            if "grid" in s and len(s["grid"]) != 3:
                raise ValueError(f"{where}.grid: expected [X, Y, Z]")
            # Synthetic inputs are allocated in memory: a shape past the limit would end in a
            # MemoryError halfway through a tuning run instead of a message naming the entry.
            for what, n in _elements(op, s).items():
                if n > MAX_ELEMENTS:
                    raise ValueError(f"{where}: {what} would hold {n} elements, more than the {MAX_ELEMENTS} a "
                                     f"tuning input may have")
    return data


def example_args(spec: dict, shape: dict, device: str = "cpu", seed: int = 0) -> tuple:
    """Synthetic positional arguments of one kernel call for `spec` at `shape` on "cpu" or "cuda"."""
    spec = json.loads(_native.canonical_spec(json.dumps(spec)))  # fills in defaulted dtypes
    rng = np.random.default_rng(seed)
    op = spec["op"]
    if op == "resample":
        B, S, T = shape["B"], shape["S"], shape["T"]
        data = rng.standard_normal((B, S, spec["dim"]))
        return tuple(_to(a, dt, device) for a, dt in ((data, spec["dtype"]), (_times(rng, B, S), spec["time_dtype"]),
                                                      (_times(rng, B, T), spec["time_dtype"])))
    if op == "fuse":
        B, T, mods = shape["B"], shape["T"], spec["modalities"]
        lengths = shape["S"] if isinstance(shape["S"], list) else [shape["S"]] * len(mods)
        if len(lengths) != len(mods):
            raise ValueError(f"shapes.fuse: S has {len(lengths)} lengths, the spec has {len(mods)} modalities")
        streams = [(_to(rng.standard_normal((B, s, m["dim"])), spec["dtype"], device),
                    _to(_times(rng, B, s), spec["time_dtype"], device)) for s, m in zip(lengths, mods)]
        return streams, _to(_times(rng, B, T), spec["time_dtype"], device)
    if op != "voxelize":
        raise ValueError(f"example_args: no synthetic inputs for op '{op}'")
    grid = shape.get("grid", _DEFAULT_GRID)
    lead = (shape["B"],) if "B" in shape else ()
    points = _to(rng.random(lead + (shape["N"], 3)), spec["coord_dtype"], device)
    voxel = [1.0 / g for g in grid]
    args = (points, (0.0, 0.0, 0.0), voxel, grid)
    if spec.get("features"):
        feats = rng.standard_normal(lead + (shape["N"], spec["features"]))
        args += (_to(feats, spec["out_dtype"], device),)
    return args


def _times(rng, rows: int, n: int) -> np.ndarray:
    return np.sort(rng.random((rows, n)), axis=1)


def _to(a: np.ndarray, dtype: str, device: str):
    if device == "cpu":
        if dtype == "bf16":
            import ml_dtypes

            return a.astype(ml_dtypes.bfloat16)
        return a.astype({"f16": np.float16, "f32": np.float32, "f64": np.float64}[dtype])
    import torch

    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
    return t.to(device=device, dtype={"f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32,
                                      "f64": torch.float64}[dtype])

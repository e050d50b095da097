"""Manifests: JSON files listing the specs a deployment needs, for `robocache warmup`.

A manifest is a JSON object with either or both of

* ``"specs"``: a list of specs, each written out in full, and
* ``"products"``: a list of ``{"base": {...}, "vary": {"field": [v1, v2, ...], ...}}``; each
  expands to the cross product of the ``vary`` lists, merged over ``base``.

Example: every dtype of a 7-joint and a 14-joint arm, with both time dtypes (16 specs)::

    {"products": [{"base": {"op": "resample", "interp": "linear"},
                   "vary": {"dtype": ["f32", "f16", "bf16", "f64"], "dim": [7, 14],
                            "time_dtype": ["f32", "f64"]}}]}
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from ._native import _robocache as _native


def _shown(text, limit: int = 40) -> str:
    """A user string as it appears in a message: escaped and cut."""
    r = repr(str(text))[1:-1]
    return r if len(r) <= limit else f"{r[:limit]}... ({len(str(text))} characters)"


def expand_manifest(manifest: dict) -> list[dict]:
    """The specs a manifest describes, validated and without duplicates, in file order."""
    if not isinstance(manifest, dict):
        raise ValueError("manifest: expected a JSON object with 'specs' and/or 'products'")
    unknown = set(manifest) - {"specs", "products", "comment"}
    if unknown:
        raise ValueError(f"manifest: unknown key(s) {', '.join(_shown(k) for k in sorted(unknown))} "
                         f"(expected 'specs', 'products')")
    specs: list[tuple[str, dict]] = []
    for key in ("specs", "products"):
        if not isinstance(manifest.get(key, []), list):
            raise ValueError(f"manifest.{key}: expected a list, got {type(manifest[key]).__name__}")
    for i, spec in enumerate(manifest.get("specs", [])):
        specs.append((f"specs[{i}]", spec))
    for i, product in enumerate(manifest.get("products", [])):
        where = f"products[{i}]"
        if not isinstance(product, dict) or set(product) - {"base", "vary"}:
            raise ValueError(f"manifest {where}: expected {{'base': {{...}}, 'vary': {{field: [values]}}}}")
        base, vary = product.get("base", {}), product.get("vary", {})
        for name, value in (("base", base), ("vary", vary)):
            if not isinstance(value, dict):
                raise ValueError(f"manifest {where}.{name}: expected an object, got {type(value).__name__}")
        for field, values in vary.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"manifest {where}.vary.{_shown(field)}: expected a non-empty list")
        fields = list(vary)
        for combo in itertools.product(*(vary[f] for f in fields)):
            specs.append((where, {**base, **dict(zip(fields, combo))}))
    out, seen = [], set()
    for where, spec in specs:
        try:
            canonical = _native.canonical_spec(json.dumps(spec))
        except ValueError as e:
            raise ValueError(f"manifest {where}: {e}") from None
        if canonical not in seen:
            seen.add(canonical)
            out.append(json.loads(canonical))
    return out


def load_manifest(path: str | Path) -> list[dict]:
    """Reads and expands a manifest file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise ValueError(f"manifest {path}: invalid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"manifest {path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    return expand_manifest(data)

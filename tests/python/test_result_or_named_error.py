"""One property over any spec and any arrays (issue 14): the call returns what the numpy reference
(reference.py, ops.md) returns, or raises ValueError/TypeError whose message names the spec field
or the argument at fault. Nothing else: no other exception, no crash, no silent wrong answer.

Hypothesis draws specs that are often invalid (unknown modes, wrong types, bad groups) and arrays
that are often wrong (shapes, dtypes, byte order, strides, unaligned views, unsorted or NaN times,
lengths out of range), on the CPU backend. The runs are derandomized, so CI sees the same examples
every time; ROBOCACHE_PROPERTY_EXAMPLES scales them (default a few tens of seconds in all).
"""

from __future__ import annotations

import json
import os
import re

import ml_dtypes
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference as ref
import robocache

pytestmark = pytest.mark.cpu_backend

EXAMPLES = int(os.environ.get("ROBOCACHE_PROPERTY_EXAMPLES", "300"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NAMED = re.compile(r"(spec field|argument) '[^']+'|^(target|config|spec): ")
NUMPY = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16,
         "i32": np.int32, "i64": np.int64, "u8": np.uint8, "bool": np.bool_}
MODES = ["linear", "nearest", "previous", "cubic", "slerp"]


def assert_named(error: BaseException):
    """The error is a ValueError/TypeError whose message names what is at fault."""
    assert isinstance(error, (ValueError, TypeError)) and not isinstance(error, UnicodeError), repr(error)
    assert NAMED.search(str(error)), f"message names no field or argument: {error}"
    assert len(str(error)) < 2000, "message not cut"


# ------------------------------------------------------------------------------------- specs

def groups_for(draw, dim):
    """A valid tiling of [0, dim), with quaternions where they fit."""
    groups, start = [], 0
    while start < dim:
        mode = draw(st.sampled_from(MODES if dim - start >= 4 else MODES[:4]))
        size = 4 if mode == "slerp" else draw(st.integers(1, dim - start))
        groups.append({"start": start, "size": size, "interp": mode})
        start += size
    return groups


SPEC_FAULTS = ["dtype", "time_dtype", "dim", "interp", "group", "unknown key", "slerp dim"]


@st.composite
def resample_specs(draw):
    """Mostly valid specs; about one in four carries one fault the parser must name."""
    dim = draw(st.integers(1, 9))
    spec = {"op": "resample", "dtype": draw(st.sampled_from(["f32", "f32", "f64", "f16", "bf16"])),
            "time_dtype": draw(st.sampled_from(["f64", "f64", "f32"])), "dim": dim}
    if draw(st.booleans()):
        spec["groups"] = groups_for(draw, dim)
    else:
        spec["interp"] = draw(st.sampled_from(MODES[:4] + (["slerp"] if dim == 4 else [])))
    fault = draw(st.sampled_from([None] * 3 + SPEC_FAULTS))
    if fault == "dtype":
        spec["dtype"] = draw(st.sampled_from(["i32", "f8", 3, None, "F32"]))
    elif fault == "time_dtype":
        spec["time_dtype"] = draw(st.sampled_from(["f16", "i64", ""]))
    elif fault == "dim":
        spec["dim"] = draw(st.sampled_from([0, -1, "3", 1.5, 65537]))
    elif fault == "interp":
        spec["interp"] = draw(st.sampled_from(["bogus", "Linear", 7]))
    elif fault == "group" and "groups" in spec:
        g = draw(st.sampled_from(spec["groups"]))
        g[draw(st.sampled_from(["start", "size", "interp"]))] = draw(st.sampled_from([-1, 0, 99, "cubicle"]))
    elif fault == "unknown key":
        spec[draw(st.sampled_from(["extra", "Dim", "groups "]))] = 1
    elif fault == "slerp dim" and "groups" not in spec:
        spec["interp"] = "slerp"
    return spec


@st.composite
def voxelize_specs(draw):
    mode = draw(st.sampled_from(["occupancy", "count", "mean", "max", "max"]))
    spec = {"op": "voxelize", "mode": mode, "coord_dtype": draw(st.sampled_from(["f32", "f64"]))}
    if mode in ("mean", "max"):
        spec["features"] = draw(st.integers(1, 3))
        spec["out_dtype"] = draw(st.sampled_from(["f32", "f64"]))
    elif mode == "occupancy":
        spec["out_dtype"] = draw(st.sampled_from(["f32", "f64", "u8", "i32"]))
    fault = draw(st.sampled_from([None] * 4 + ["mode", "features", "out_dtype", "coord_dtype"]))
    if fault == "mode":
        spec["mode"] = "maximum"
    elif fault == "features":
        spec["features"] = draw(st.sampled_from([0, -1, 4 if mode in ("occupancy", "count") else 0]))
    elif fault == "out_dtype":
        spec["out_dtype"] = draw(st.sampled_from(["bf16", "i64", "f16"]))
    elif fault == "coord_dtype":
        spec["coord_dtype"] = "f16"
    return spec


def compile_or_named_error(spec):
    try:
        return robocache.compile(spec, "cpu")
    except (ValueError, TypeError) as e:
        assert_named(e)
        event("spec refused")
        return None


# ------------------------------------------------------------------------------------ arrays

LAYOUTS = ["C", "C", "C", "fortran", "strided", "unaligned"]  # all readable: same result expected


def laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values in another memory layout (which must give the same result, or a named error)."""
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        wide = np.zeros(a.shape + (2,), a.dtype)
        wide[..., 0] = a
        return wide[..., 0]
    if layout == "big-endian" and a.dtype.itemsize > 1 and a.dtype.kind in "fiu":
        return a.astype(a.dtype.newbyteorder(">"))
    if layout == "unaligned" and a.dtype.itemsize > 1:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        out = raw[1:].view(a.dtype).reshape(a.shape)
        out[...] = a
        return out
    return a


CALL_FAULTS = ["D", "value dtype", "time dtype", "rank", "unsorted", "nan source time", "big-endian",
               "length 0", "length past S", "no samples", "rows", "int times"]


@st.composite
def resample_calls(draw, spec):
    """(arguments, the fault drawn or None). About half the calls carry one fault."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    fault = draw(st.sampled_from([None] * 10 + CALL_FAULTS))
    dim = spec["dim"]
    B, S, T = draw(st.integers(1, 3)), draw(st.integers(1, 7)), draw(st.integers(0, 6))
    if fault == "no samples":
        S = 0
    D = dim + draw(st.sampled_from([-1, 1])) if fault == "D" else dim
    value = NUMPY[spec["dtype"]]
    if fault == "value dtype":
        value = NUMPY[draw(st.sampled_from([n for n in NUMPY if n != spec["dtype"]]))]
    time = NUMPY[spec["time_dtype"]]
    if fault == "time dtype":
        time = NUMPY["f32" if spec["time_dtype"] == "f64" else "f64"]
    elif fault == "int times":
        time = np.int64
    data = rng.standard_normal((B, S, max(D, 0)))
    for g in spec.get("groups") or [{"start": 0, "size": dim, "interp": spec["interp"]}]:
        if g["interp"] == "slerp" and D >= g["start"] + 4:  # unit quaternions, as slerp expects
            q = data[..., g["start"]:g["start"] + 4]
            q /= np.linalg.norm(q, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        data = data.astype(value)
    if fault == "rank":
        data = data[0]
    shared = draw(st.booleans())
    src = np.cumsum(rng.integers(0, 3, size=(S,) if shared else (B, S)), axis=-1).astype(np.float64)  # repeats
    src = src + draw(st.sampled_from([0.0, 1.7e9]))  # epoch seconds too
    if fault in ("unsorted", "nan source time") and S >= 2:
        src[..., -1] = -5.0 if fault == "unsorted" else np.nan
    tgt = src.min(initial=0.0) + rng.uniform(-1.0, max(S, 1) + 1.0, size=(T,) if draw(st.booleans()) else (B, T))
    if T and draw(st.integers(0, 4)) == 0:
        tgt.flat[0] = np.nan
    if fault == "rows":
        tgt = np.zeros((B + 1, T))
    with np.errstate(invalid="ignore"):
        src, tgt = src.astype(time), tgt.astype(time)
    lengths = None
    if fault in ("length 0", "length past S"):
        lengths = np.full(B, 0 if fault == "length 0" else S + 1, np.int64)
    elif draw(st.integers(0, 3)) == 0:
        lengths = rng.integers(1, max(S, 1) + 1, size=B)
    layouts = [draw(st.sampled_from(LAYOUTS)) for _ in range(3)]
    if fault == "big-endian":  # the others C-contiguous, so the call can take the numpy short path
        layouts = ["C"] * 3
        layouts[draw(st.integers(0, 2))] = "big-endian"
    args = [laid_out(data, layouts[0]), laid_out(src, layouts[1]), laid_out(tgt, layouts[2]), lengths]
    return args, fault


VOXEL_FAULTS = ["last axis", "coord dtype", "feature dtype", "feature count", "no features", "voxel size",
                "grid", "lengths", "big-endian"]


@st.composite
def voxelize_calls(draw, spec):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    fault = draw(st.sampled_from([None] * 8 + VOXEL_FAULTS))
    N = draw(st.integers(0, 24))
    batched = draw(st.booleans())
    B = draw(st.integers(1, 2))
    coord = NUMPY[spec["coord_dtype"]]
    if fault == "coord dtype":
        coord = NUMPY["f32" if spec["coord_dtype"] == "f64" else "f64"]
    pts = rng.uniform(-1.0, 5.0, size=((B, N, 3) if batched else (N, 3)))
    if N and draw(st.integers(0, 4)) == 0:
        pts.flat[0] = np.nan
    if fault == "last axis":
        pts = pts[..., :2]
    F = spec["features"]
    features = None
    if (F and fault != "no features") or fault == "feature count":
        F = F + 1 if fault == "feature count" else F
        features = rng.standard_normal(pts.shape[:-1] + (F,))
        if features.size and draw(st.integers(0, 3)) == 0:
            features[rng.random(features.shape) < 0.6] = np.nan  # ignored like fmax; all NaN gives NaN
        out = NUMPY[spec["out_dtype"]]
        if fault == "feature dtype":
            out = np.float64 if out == np.float32 else np.float32
        features = features.astype(out)
    grid_min = tuple(draw(st.sampled_from([0.0, -0.5])) for _ in range(3))
    voxel_size = draw(st.sampled_from([1.0, 0.5, (1.0, 0.5, 2.0)]))
    if fault == "voxel size":
        voxel_size = draw(st.sampled_from([0.0, -1.0, (1.0, 0.0, 1.0), float("nan")]))
    grid_shape = tuple(draw(st.integers(1, 4)) for _ in range(3))
    if fault == "grid":
        grid_shape = draw(st.sampled_from([(0, 2, 2), (2, 2), (2, -1, 2)]))
    lengths = None
    if batched and (fault == "lengths" or draw(st.integers(0, 3)) == 0):
        lengths = rng.integers(0, N + 1, size=B) if fault != "lengths" else np.full(B, N + 1)
    layouts = [draw(st.sampled_from(LAYOUTS)) for _ in range(2)]
    if fault == "big-endian":
        layouts = ["big-endian", "C"]
    args = (laid_out(pts.astype(coord), layouts[0]), grid_min, voxel_size, grid_shape)
    kwargs = {"features": None if features is None else laid_out(features, layouts[1]), "lengths": lengths}
    return args, kwargs


# ---------------------------------------------------------------------------------- properties

@PROPERTY
@given(st.data())
def test_resample_gives_the_reference_result_or_a_named_error(data):
    spec = data.draw(resample_specs())
    kernel = compile_or_named_error(spec)
    if kernel is None:
        return
    spec = kernel.spec
    args, fault = data.draw(resample_calls(spec))
    event(f"call fault: {fault}")
    try:
        out = kernel(*args)
    except (ValueError, TypeError) as e:
        assert_named(e)
        event("call refused")
        return
    event("result compared")
    # A bad last source time is no fault when no row reaches it (S < 2, or every length < S).
    S, lengths = args[1].shape[-1], args[3]
    unused = S < 2 or (lengths is not None and int(np.max(lengths)) < S)
    assert fault is None or (fault in ("unsorted", "nan source time") and unused), \
        f"a call with the fault '{fault}' returned a result"
    d, src, tgt, lengths = (None if a is None else np.ascontiguousarray(a) for a in args)
    want = ref.resample(d, src, tgt, spec["interp"], spec.get("groups"), lengths)
    modes = ref.channel_modes(want.shape[-1], spec["interp"], spec.get("groups"))
    ref.assert_resample_close(out, want, np.dtype(NUMPY[spec["dtype"]]), modes)


@PROPERTY
@given(st.data())
def test_voxelize_gives_the_reference_result_or_a_named_error(data):
    spec = data.draw(voxelize_specs())
    kernel = compile_or_named_error(spec)
    if kernel is None:
        return
    spec = kernel.spec
    args, kwargs = data.draw(voxelize_calls(spec))
    try:
        out = kernel(*args, **kwargs)
    except (ValueError, TypeError) as e:
        assert_named(e)
        event("call refused")
        return
    event("result compared")
    features = kwargs["features"]
    want = ref.voxelize(np.ascontiguousarray(args[0]), *args[1:], mode=spec["mode"],
                        features=None if features is None else np.ascontiguousarray(features),
                        lengths=kwargs["lengths"], out_dtype=NUMPY[spec["out_dtype"]])
    assert out.dtype == want.dtype and out.shape == want.shape
    if spec["mode"] == "mean":
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(out, want)


def test_the_spec_strategy_reaches_valid_and_invalid_specs():
    """A guard on the generator itself: both branches of the property are exercised."""
    from hypothesis import find

    find(resample_specs(), lambda s: compile_or_named_error(s) is None)
    find(resample_specs(), lambda s: "groups" in s and len(s["groups"]) > 1 and compile_or_named_error(s) is not None)
    assert json.dumps(find(voxelize_specs(), lambda s: s["mode"] == "max"))

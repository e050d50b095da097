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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference as ref
import robocache

pytestmark = pytest.mark.cpu_backend

EXAMPLES = int(os.environ.get("ROBOCACHE_PROPERTY_EXAMPLES", "150"))
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
    """Often a valid tiling of [0, dim) (with quaternions where dim allows), sometimes a broken one."""
    if draw(st.booleans()) or dim < 1:
        return None
    groups, start = [], 0
    while start < dim:
        mode = draw(st.sampled_from(MODES))
        size = 4 if mode == "slerp" else draw(st.integers(1, max(1, dim - start)))
        groups.append({"start": start, "size": size, "interp": mode})
        start += size
    if draw(st.integers(0, 9)) == 0:  # break it: a gap, an overlap or an unknown mode
        g = draw(st.sampled_from(groups))
        g[draw(st.sampled_from(["start", "size", "interp"]))] = draw(st.sampled_from([-1, 0, 99, "cubicle"]))
    return groups


@st.composite
def resample_specs(draw):
    spec = {"op": "resample",
            "dtype": draw(st.sampled_from(["f32", "f32", "f64", "f16", "bf16", "i32", "f8", 3])),
            "time_dtype": draw(st.sampled_from(["f64", "f64", "f32", "f16"])),
            "dim": draw(st.one_of(st.integers(1, 6), st.integers(-1, 0), st.just(8), st.just("3")))}
    dim = spec["dim"] if isinstance(spec["dim"], int) else 0
    groups = groups_for(draw, dim)
    if groups is not None:
        spec["groups"] = groups
    else:
        spec["interp"] = draw(st.sampled_from(MODES + ["bogus"]))
    if draw(st.integers(0, 15)) == 0:
        spec[draw(st.sampled_from(["extra", "interp", "dim"]))] = draw(st.sampled_from([None, [1], "slerp"]))
    return spec


@st.composite
def voxelize_specs(draw):
    mode = draw(st.sampled_from(["occupancy", "count", "mean", "max", "maximum"]))
    spec = {"op": "voxelize", "mode": mode,
            "coord_dtype": draw(st.sampled_from(["f32", "f64", "f16"]))}
    if mode in ("mean", "max") or draw(st.integers(0, 9)) == 0:
        spec["features"] = draw(st.integers(0, 3))
    if draw(st.integers(0, 4)) == 0:
        spec["out_dtype"] = draw(st.sampled_from(["f32", "f64", "u8", "i32", "bf16"]))
    return spec


def compile_or_named_error(spec):
    try:
        return robocache.compile(spec, "cpu")
    except (ValueError, TypeError) as e:
        assert_named(e)
        return None


# ------------------------------------------------------------------------------------ arrays

LAYOUTS = ["C", "C", "C", "fortran", "strided", "big-endian", "unaligned"]


def laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values in another memory layout (which must give the same result, or a named error)."""
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        wide = np.zeros(a.shape + (2,), a.dtype)
        wide[..., 0] = a
        return wide[..., 0]
    if layout == "big-endian" and a.dtype.kind in "fiu" and a.dtype.itemsize > 1:
        return a.astype(a.dtype.newbyteorder(">"))
    if layout == "unaligned" and a.dtype.itemsize > 1:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        out = raw[1:].view(a.dtype).reshape(a.shape)
        out[...] = a
        return out
    return a


def sorted_times(draw, rng, n, shape):
    t = np.cumsum(rng.integers(0, 3, size=shape), axis=-1).astype(np.float64)  # repeats allowed
    problem = draw(st.sampled_from([None] * 8 + ["unsorted", "nan"]))
    if problem and n >= 2:
        idx = (..., n - 1)
        t[idx] = -5.0 if problem == "unsorted" else np.nan
    return t, problem is not None and n >= 2


@st.composite
def resample_calls(draw, spec):
    """(arguments, the reference's inputs or None when the call must fail)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    dim = spec["dim"]
    B, S, T = draw(st.integers(1, 3)), draw(st.integers(0, 6)), draw(st.integers(0, 5))
    D = dim if draw(st.integers(0, 9)) else draw(st.integers(1, 5))
    value = NUMPY[spec["dtype"]] if draw(st.integers(0, 9)) else NUMPY[draw(st.sampled_from(list(NUMPY)))]
    time = NUMPY[spec.get("time_dtype", "f64")] if draw(st.integers(0, 9)) else NUMPY[draw(st.sampled_from(["f32", "f64", "i64"]))]
    data = rng.standard_normal((B, S, D))
    for g in spec.get("groups") or ([{"start": 0, "size": dim, "interp": spec.get("interp")}]):
        if g["interp"] == "slerp" and D >= g["start"] + 4:  # unit quaternions, as slerp expects
            q = data[..., g["start"]:g["start"] + 4]
            q /= np.linalg.norm(q, axis=-1, keepdims=True)
    data = data.astype(value)
    if draw(st.integers(0, 19)) == 0:
        data = data[0]  # wrong rank
    shared = draw(st.booleans())
    src, bad_src = sorted_times(draw, rng, S, (S,) if shared else (B, S))
    src = src.astype(time)
    tgt = rng.uniform(-1.0, max(S, 1), size=(T,) if draw(st.booleans()) else (B, T))
    if T and draw(st.integers(0, 4)) == 0:
        tgt.flat[0] = np.nan
    tgt = tgt.astype(time)
    lengths = None
    if draw(st.integers(0, 3)) == 0:
        lengths = rng.integers(0 if draw(st.integers(0, 4)) == 0 else 1, S + 1 + draw(st.integers(0, 1)), size=B)
    args = [laid_out(data, draw(st.sampled_from(LAYOUTS))), laid_out(src, draw(st.sampled_from(LAYOUTS))),
            laid_out(tgt, draw(st.sampled_from(LAYOUTS))), lengths]
    return args, bad_src


@st.composite
def voxelize_calls(draw, spec):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    N = draw(st.integers(0, 20))
    batched = draw(st.booleans())
    B = draw(st.integers(1, 2))
    coord = NUMPY[spec.get("coord_dtype", "f32")] if draw(st.integers(0, 9)) else NUMPY[draw(st.sampled_from(["f32", "f64", "i32"]))]
    pts = rng.uniform(-1.0, 5.0, size=((B, N, 3) if batched else (N, 3)))
    if N and draw(st.integers(0, 4)) == 0:
        pts.flat[0] = np.nan
    if draw(st.integers(0, 19)) == 0:
        pts = pts[..., :2]  # last axis not 3
    F = spec.get("features", 0) if draw(st.integers(0, 9)) else draw(st.integers(0, 3))
    features = None
    if F or draw(st.integers(0, 9)) == 0:
        features = rng.standard_normal(pts.shape[:-1] + (max(F, 1),))
        if features.size and draw(st.integers(0, 3)) == 0:
            features[rng.random(features.shape) < 0.5] = np.nan  # ignored like fmax; all-NaN gives NaN
        out_dtype = spec.get("out_dtype", "f32")
        features = features.astype(NUMPY.get(out_dtype, np.float32) if draw(st.integers(0, 9)) else np.float64)
    grid_min = tuple(draw(st.sampled_from([0.0, -0.5])) for _ in range(3))
    voxel_size = draw(st.sampled_from([1.0, 0.5, (1.0, 0.5, 2.0), 0.0, -1.0]))
    grid_shape = tuple(draw(st.integers(1, 4)) for _ in range(3))
    if draw(st.integers(0, 19)) == 0:
        grid_shape = (0, 2, 2)
    lengths = rng.integers(0, N + 1, size=B) if batched and draw(st.integers(0, 3)) == 0 else None
    args = (laid_out(pts.astype(coord), draw(st.sampled_from(LAYOUTS))), grid_min, voxel_size, grid_shape)
    kwargs = {"features": None if features is None else laid_out(features, draw(st.sampled_from(LAYOUTS))),
              "lengths": lengths}
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
    args, bad_times = data.draw(resample_calls(spec))
    try:
        out = kernel(*args)
    except (ValueError, TypeError) as e:
        assert_named(e)
        return
    assert not bad_times, "unsorted or NaN source times were accepted with validate=True"
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
        return
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
    find(resample_specs(), lambda s: "groups" in s and compile_or_named_error(s) is not None)
    assert json.dumps(find(voxelize_specs(), lambda s: s["mode"] == "max"))

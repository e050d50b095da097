"""Specs: validation errors name the field; canonical form and hash ignore key order and defaults."""

import json

import pytest

import robocache
from robocache import _native


def test_hash_ignores_key_order_and_defaults():
    a = {"op": "resample", "dtype": "bf16", "time_dtype": "f64", "dim": 8, "interp": "linear"}
    b = {"interp": "linear", "dim": 8, "dtype": "bf16", "op": "resample"}
    assert _native.spec_hash(json.dumps(a)) == _native.spec_hash(json.dumps(b))
    assert _native.canonical_spec(json.dumps(b)) == (
        '{"dim":8,"dtype":"bf16","interp":"linear","op":"resample","time_dtype":"f64"}'
    )


def test_different_specs_hash_differently():
    base = {"op": "resample", "dtype": "f32", "dim": 8}
    other = dict(base, dim=9)
    assert _native.spec_hash(json.dumps(base)) != _native.spec_hash(json.dumps(other))


@pytest.mark.parametrize(
    "spec, field",
    [
        ({"op": "resample", "dtype": "f32"}, "dim"),
        ({"op": "resample", "dtype": "f32", "dim": 0}, "dim"),
        ({"op": "resample", "dtype": "f32", "dim": 2.5}, "dim"),
        ({"op": "resample", "dtype": "int8", "dim": 3}, "dtype"),
        ({"op": "resample", "dtype": "f32", "dim": 3, "time_dtype": "f16"}, "time_dtype"),
        ({"op": "resample", "dtype": "f32", "dim": 3, "interp": "bezier"}, "interp"),
        ({"op": "resample", "dtype": "f32", "dim": 3, "extra": 1}, "extra"),
        ({"op": "rotate", "dtype": "f32", "dim": 3}, "op"),
    ],
)
def test_bad_specs_raise_value_error_naming_the_field(spec, field):
    with pytest.raises(ValueError, match=f"spec field '{field}'"):
        robocache.compile(spec, "cpu")


def test_spec_must_be_a_dict_or_json():
    with pytest.raises(TypeError, match="spec"):
        robocache.compile(42)
    with pytest.raises(ValueError, match="invalid JSON"):
        robocache.compile("{not json", "cpu")


def test_unknown_target_is_rejected():
    with pytest.raises(ValueError, match="unknown target 'tpu'"):
        robocache.compile({"op": "resample", "dtype": "f32", "dim": 3}, "tpu")

"""resample `linear` on the CPU backend against the float64 reference of ops.md §1."""

import ml_dtypes
import numpy as np
import pytest

import robocache
from reference import resample_linear, rounded, ulp_distance

pytestmark = pytest.mark.skipif(
    not robocache.check_installation()["cpu"]["available"], reason="built without the CPU backend"
)

VALUE_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": ml_dtypes.bfloat16}
TIME_DTYPES = {"f32": np.float32, "f64": np.float64}


def kernel(dtype="f32", time_dtype="f64", dim=4):
    return robocache.compile(
        {"op": "resample", "dtype": dtype, "time_dtype": time_dtype, "dim": dim}, "cpu"
    )


def random_case(rng, B, S, T, D, vdt, tdt, shared=False, epoch=0.0):
    src = np.sort(rng.uniform(0, 10, size=(S,) if shared else (B, S)), axis=-1) + epoch
    tgt = rng.uniform(-1, 11, size=(T,) if shared else (B, T)) + epoch
    data = rng.standard_normal((B, S, D))
    return data.astype(vdt), src.astype(tdt), tgt.astype(tdt)


def check(out, data, src, tgt, vname):
    ref = resample_linear(data, src, tgt)
    if vname == "f32":
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    elif vname == "f64":
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    else:
        want = rounded(ref, out.dtype)
        assert ulp_distance(out, want).max() <= 1


@pytest.mark.parametrize("vname", VALUE_DTYPES)
@pytest.mark.parametrize("tname", TIME_DTYPES)
@pytest.mark.parametrize("shared", [False, True], ids=["per-row-times", "shared-times"])
def test_matches_reference(vname, tname, shared):
    rng = np.random.default_rng(hash((vname, tname, shared)) % 2**32)
    data, src, tgt = random_case(rng, 3, 50, 200, 5, VALUE_DTYPES[vname], TIME_DTYPES[tname], shared)
    out = kernel(vname, tname, 5)(data, src, tgt)
    assert out.dtype == data.dtype and out.shape == (3, 200, 5)
    check(out, data, src, tgt, vname)


def test_holds_first_and_last_sample_outside_the_source_range():
    data = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    src = np.array([1.0, 2.0, 3.0])
    out = kernel()(data, src, np.array([-5.0, 1.0, 3.0, 7.0]))
    np.testing.assert_array_equal(out[0, 0], data[0, 0])
    np.testing.assert_array_equal(out[0, 1], data[0, 0])
    np.testing.assert_array_equal(out[0, 2], data[0, 2])
    np.testing.assert_array_equal(out[0, 3], data[0, 2])


@pytest.mark.parametrize("vname", VALUE_DTYPES)
def test_exact_hits_are_bit_exact(vname):
    rng = np.random.default_rng(7)
    data = rng.standard_normal((2, 40, 4)).astype(VALUE_DTYPES[vname])
    src = np.cumsum(rng.uniform(0.01, 1.0, size=(2, 40)), axis=1)
    out = kernel(vname, "f64", 4)(data, src, src)
    np.testing.assert_array_equal(out.view(np.uint8), data.view(np.uint8))


def test_repeated_timestamps_use_the_last_sample_at_that_time():
    data = np.array([[[0.0], [10.0], [20.0], [30.0]]], dtype=np.float32)
    src = np.array([0.0, 1.0, 1.0, 2.0])
    out = kernel(dim=1)(data, src, np.array([0.5, 1.0, 1.5]))
    # x=0.5 blends samples 0 and 1; x=1.0 hits the last sample stamped 1.0; x=1.5 blends 2 and 3.
    np.testing.assert_allclose(out[0, :, 0], [5.0, 20.0, 25.0], rtol=1e-6)
    np.testing.assert_allclose(out, resample_linear(data, src, np.array([0.5, 1.0, 1.5])), rtol=1e-6)


def test_nan_target_gives_a_nan_row():
    data = np.ones((1, 3, 2), dtype=np.float32)
    out = kernel(dim=2)(data, np.array([0.0, 1.0, 2.0]), np.array([0.5, np.nan, 1.5]))
    assert np.isnan(out[0, 1]).all()
    assert np.isfinite(out[0, [0, 2]]).all()


def test_epoch_second_times_in_f64():
    rng = np.random.default_rng(3)
    data, src, tgt = random_case(rng, 2, 300, 100, 3, np.float32, np.float64, epoch=1.7e9)
    out = kernel(dim=3)(data, src, tgt)
    check(out, data, src, tgt, "f32")


def test_many_targets_use_the_thread_pool_and_stay_correct():
    rng = np.random.default_rng(11)
    data, src, tgt = random_case(rng, 8, 1000, 5000, 7, np.float32, np.float64)
    check(kernel(dim=7)(data, src, tgt), data, src, tgt, "f32")


def test_strided_inputs_give_correct_results():
    rng = np.random.default_rng(5)
    data, src, tgt = random_case(rng, 4, 60, 30, 6, np.float32, np.float64)
    wide = np.zeros((4, 60, 12), dtype=np.float32)
    wide[:, :, ::2] = data
    strided = wide[:, :, ::2]
    assert not strided.flags.c_contiguous
    check(kernel(dim=6)(strided, src, tgt), data, src, tgt, "f32")


def test_empty_batch_and_empty_targets():
    k = kernel(dim=2)
    out = k(np.zeros((0, 5, 2), np.float32), np.zeros((0, 5)), np.zeros((0, 3)))
    assert out.shape == (0, 3, 2)
    out = k(np.zeros((2, 5, 2), np.float32), np.arange(5.0), np.zeros(0))
    assert out.shape == (2, 0, 2)


@pytest.mark.parametrize(
    "args, argument, fragment",
    [
        ((np.zeros((2, 5), np.float32), np.arange(5.0), np.arange(3.0)), "data", "3-D"),
        ((np.zeros((2, 5, 3), np.float32), np.arange(5.0), np.arange(3.0)), "data", "4 channels"),
        ((np.zeros((2, 5, 4), np.float64), np.arange(5.0), np.arange(3.0)), "data", "dtype f32"),
        ((np.zeros((2, 0, 4), np.float32), np.zeros(0), np.arange(3.0)), "data", "S >= 1"),
        ((np.zeros((2, 5, 4), np.float32), np.arange(6.0), np.arange(3.0)), "src_times", "[5]"),
        ((np.zeros((2, 5, 4), np.float32), np.zeros((3, 5)), np.arange(3.0)), "src_times", "batch 2"),
        ((np.zeros((2, 5, 4), np.float32), np.arange(5, dtype=np.float32), np.arange(3.0)), "src_times", "dtype f64"),
        ((np.zeros((2, 5, 4), np.float32), np.arange(5.0), np.zeros((3, 3))), "tgt_times", "batch 2"),
        ((np.zeros((2, 5, 4), np.float32), np.array([0.0, 1, 3, 2, 4]), np.arange(3.0)), "src_times", "non-decreasing"),
        ((np.zeros((2, 5, 4), np.float32), np.array([0.0, 1, np.nan, 3, 4]), np.arange(3.0)), "src_times", "NaN"),
    ],
)
def test_bad_arrays_raise_value_error_naming_the_argument(args, argument, fragment):
    with pytest.raises(ValueError) as e:
        kernel()(*args)
    assert f"argument '{argument}'" in str(e.value)
    assert fragment in str(e.value)


def test_non_array_argument_is_a_type_error():
    with pytest.raises(TypeError, match="argument 'tgt_times'"):
        kernel()(np.zeros((1, 2, 4), np.float32), np.arange(2.0), [0.5])

"""Self-tests of the float64 references in reference.py on hand-made cases (no robocache backend)."""

import math

import ml_dtypes
import numpy as np
import pytest

import reference as ref

F64 = np.float64


def one_channel(values, dtype=np.float64):
    return np.asarray(values, dtype=np.float64).reshape(1, -1, 1).astype(dtype)


def run1(values, src, tgt, mode, dtype=np.float64, **kw):
    """resample of one row and one channel: a float64 vector of T outputs."""
    return ref.resample(one_channel(values, dtype), np.asarray(src, F64), np.asarray(tgt, F64), mode, **kw)[0, :, 0]


# ----------------------------------------------------------------------------------- holds, NaN


@pytest.mark.parametrize("mode", ["linear", "nearest", "previous", "cubic"])
def test_holds_at_both_ends_and_nan_rows(mode):
    out = run1([1.0, 2.0, 4.0], [1.0, 2.0, 3.0], [-5.0, 1.0, 3.0, 7.0, np.nan], mode)
    np.testing.assert_array_equal(out[:4], [1.0, 1.0, 4.0, 4.0])
    assert np.isnan(out[4])


def test_all_equal_source_times_hold_the_first_sample():
    # ops.md order: `x <= t[0]` is checked before `x >= t[L-1]`, so x == t[0] == t[L-1] holds v[0].
    for mode in ["linear", "nearest", "previous", "cubic"]:
        np.testing.assert_array_equal(run1([3.0, 5.0, 7.0], [1.0, 1.0, 1.0], [0.0, 1.0, 2.0], mode), [3, 3, 7])


def test_single_sample_rows_hold_everywhere():
    for mode in ["linear", "nearest", "previous", "cubic"]:
        np.testing.assert_array_equal(run1([9.0], [2.0], [1.0, 2.0, 3.0], mode), [9.0, 9.0, 9.0])


def test_nan_target_gives_a_nan_row_in_every_group():
    data = np.zeros((1, 3, 6))
    data[0, :, 2:6] = [0, 0, 0, 1]
    groups = [{"start": 0, "size": 2, "interp": "cubic"}, {"start": 2, "size": 4, "interp": "slerp"}]
    out = ref.resample(data, np.arange(3.0), np.array([0.5, np.nan]), groups=groups)
    assert np.isnan(out[0, 1]).all() and np.isfinite(out[0, 0]).all()


# ----------------------------------------------------------------------------------- linear


def test_linear_matches_the_existing_resample_linear():
    rng = np.random.default_rng(0)
    for vdt in [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]:
        for tdt in [np.float32, np.float64]:
            data = rng.standard_normal((3, 20, 4)).astype(vdt)
            src = np.sort(rng.uniform(0, 10, (3, 20)), axis=1).astype(tdt)
            tgt = rng.uniform(-1, 11, (3, 30)).astype(tdt)
            tgt[0, ::7] = np.nan
            np.testing.assert_array_equal(ref.resample(data, src, tgt), ref.resample_linear(data, src, tgt))


def test_linear_weight_is_rounded_to_the_blend_type():
    # a = 1/3 in f64 times; f32 data blends with float32(1/3), f64 data with 1/3.
    src, tgt = np.array([0.0, 3.0]), np.array([1.0])
    out32 = ref.resample(one_channel([0.0, 1.0], np.float32), src, tgt)[0, 0, 0]
    out64 = ref.resample(one_channel([0.0, 1.0]), src, tgt)[0, 0, 0]
    assert out32 == float(np.float32(1.0 / 3.0)) and out32 != 1.0 / 3.0
    assert out64 == 1.0 / 3.0
    bf = ref.resample(one_channel([0.0, 1.0], ml_dtypes.bfloat16), src, tgt)[0, 0, 0]
    assert bf == out32  # the blend type of 16-bit data is float32 too


def test_weight_is_computed_in_the_time_dtype():
    # Epoch seconds: f64 keeps x - t[l] = 0.25 exactly.
    t0 = 1.7e9
    src, tgt = np.array([t0, t0 + 1.0]), np.array([t0 + 0.25])
    np.testing.assert_array_equal(ref.resample(one_channel([0.0, 4.0]), src, tgt)[0, :, 0], [1.0])
    # In f32 the same times collapse (resolution 128 s): every target holds the first sample.
    out = ref.resample(one_channel([0.0, 4.0]), src.astype(np.float32), tgt.astype(np.float32))
    np.testing.assert_array_equal(out[0, :, 0], [0.0])


def test_repeated_timestamps_use_the_last_sample_stamped_at_or_before_x():
    out = run1([0.0, 10.0, 20.0, 30.0], [0.0, 1.0, 1.0, 2.0], [0.5, 1.0, 1.5], "linear")
    np.testing.assert_allclose(out, [5.0, 20.0, 25.0])
    out = run1([0.0, 10.0, 20.0, 30.0], [0.0, 1.0, 1.0, 2.0], [0.5, 1.0, 1.5], "previous")
    np.testing.assert_array_equal(out, [0.0, 20.0, 20.0])


# ----------------------------------------------------------------------------------- nearest, previous


def test_nearest_tie_goes_to_the_earlier_sample():
    out = run1([0.0, 10.0, 20.0], [0.0, 1.0, 2.0], [0.25, 0.5, 0.75, 1.5, 1.5000001], "nearest")
    np.testing.assert_array_equal(out, [0.0, 0.0, 10.0, 10.0, 20.0])


def test_nearest_compares_distances_in_the_time_dtype():
    # In f32 the target 0.5000000001 rounds to 0.5 exactly: a tie, so the earlier sample.
    src = np.array([0.0, 1.0], np.float32)
    tgt = np.array([0.5000000001], np.float64)
    assert ref.resample(one_channel([0.0, 1.0]), src, tgt.astype(np.float32), "nearest")[0, 0, 0] == 0.0
    assert ref.resample(one_channel([0.0, 1.0]), src.astype(F64), tgt, "nearest")[0, 0, 0] == 1.0


def test_previous_is_a_zero_order_hold():
    out = run1([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], [0.0, 0.999, 1.0, 1.999, 2.0], "previous")
    np.testing.assert_array_equal(out, [1.0, 1.0, 2.0, 2.0, 3.0])


# ----------------------------------------------------------------------------------- cubic


def test_cubic_reproduces_lines_on_uneven_times():
    t = np.array([0.0, 0.3, 1.0, 1.1, 2.5, 4.0])
    x = np.linspace(-0.5, 4.5, 41)
    np.testing.assert_allclose(run1(3.0 * t - 1.0, t, x, "cubic"), 3.0 * np.clip(x, 0, 4) - 1.0, atol=1e-12)


def test_cubic_reproduces_a_parabola_between_interior_samples():
    # Central differences are exact for quadratics on an even grid, and Hermite interpolation with
    # exact derivatives reproduces polynomials of degree <= 3.
    t = np.arange(6.0)
    x = np.array([1.25, 2.5, 3.75])
    np.testing.assert_allclose(run1(t**2, t, x, "cubic"), x**2, rtol=1e-14)


def test_cubic_against_a_hand_computed_value():
    # t = [0, 0, 1]: m[0] has a zero denominator (0); m[1] = (7-0)/(1-0); m[2] = (7-5)/1 one-sided.
    m = ref._cubic_tangents(np.array([0.0, 0.0, 1.0]), np.array([[0.0], [5.0], [7.0]]))
    np.testing.assert_array_equal(m[:, 0], [0.0, 7.0, 2.0])
    # x = 0.5: l = 1, r = 2, h = 1, s = 0.5: h00 = h01 = 0.5, h10 = 0.125, h11 = -0.125.
    out = run1([0.0, 5.0, 7.0], [0.0, 0.0, 1.0], [0.5], "cubic")
    assert out[0] == 0.5 * 5 + 0.125 * 7 + 0.5 * 7 - 0.125 * 2


def test_cubic_interior_tangent_with_zero_denominator_is_zero():
    m = ref._cubic_tangents(np.array([0.0, 1.0, 1.0, 1.0, 2.0]), np.array([[0.0], [1.0], [5.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(m[:, 0], [1.0, 5.0, 0.0, -2.0, 1.0])


def test_cubic_tangents_use_only_the_first_L_samples():
    data = one_channel([0.0, 1.0, 4.0, 1000.0])
    src = np.array([0.0, 1.0, 2.0, 3.0])
    x = np.array([1.5])
    # With L = 3 the end tangent at sample 2 is one-sided (4 - 1) / 1, not central.
    got = ref.resample(data, src, x, "cubic", lengths=np.array([3]))[0, 0, 0]
    h00, h10, h01, h11 = ref.hermite_basis(0.5)
    assert got == h00 * 1.0 + h10 * 2.0 + h01 * 4.0 + h11 * 3.0


# ----------------------------------------------------------------------------------- slerp


def quat_z(angle):
    return np.array([0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2)])


def test_slerp_halfway_between_two_rotations_about_z():
    data = np.stack([quat_z(0.0), quat_z(math.pi / 2)])[None]
    out = ref.resample(data, np.array([0.0, 1.0]), np.array([0.5, 0.25]), "slerp")[0]
    np.testing.assert_allclose(out[0], quat_z(math.pi / 4), atol=1e-15)
    np.testing.assert_allclose(out[1], quat_z(math.pi / 8), atol=1e-15)


def test_slerp_takes_the_shorter_arc():
    data = np.stack([quat_z(0.0), -quat_z(math.pi / 2)])[None]  # same rotation, other hemisphere
    out = ref.resample(data, np.array([0.0, 1.0]), np.array([0.5]), "slerp")[0, 0]
    np.testing.assert_allclose(out, quat_z(math.pi / 4), atol=1e-15)


def test_slerp_is_not_linear_interpolation_for_large_angles():
    data = np.stack([quat_z(0.0), quat_z(math.pi * 0.9)])[None]
    out = ref.resample(data, np.array([0.0, 1.0]), np.array([0.25]), "slerp")[0, 0]
    np.testing.assert_allclose(out, quat_z(math.pi * 0.9 * 0.25), atol=1e-15)
    lerp = 0.75 * data[0, 0] + 0.25 * data[0, 1]
    assert np.abs(lerp / np.linalg.norm(lerp) - out).max() > 1e-3


def test_slerp_falls_back_to_normalised_lerp_below_1e6_rad():
    q0, q1 = quat_z(0.0), quat_z(1e-7)  # 5e-8 rad apart in quaternion space
    out = ref.slerp_quaternions(q0[None], q1[None], np.array([0.3]))[0]
    lerp = 0.7 * q0 + 0.3 * q1
    np.testing.assert_array_equal(out, lerp / np.linalg.norm(lerp))


def test_slerp_result_is_normalised_but_holds_are_copied():
    a = np.array([0.0, 0.0, 0.0, 2.0])  # not a unit quaternion
    b = np.array([0.0, 0.0, 1.0, 1.0])
    data = np.stack([a, b])[None]
    out = ref.resample(data, np.array([0.0, 1.0]), np.array([-1.0, 0.5, 2.0]), "slerp")[0]
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[2], b)
    assert abs(np.linalg.norm(out[1]) - 1.0) < 1e-15


# ----------------------------------------------------------------------------------- groups, lengths


def test_groups_apply_their_own_mode():
    rng = np.random.default_rng(1)
    B, S, T = 2, 9, 15
    pos = rng.standard_normal((B, S, 3))
    quat = rng.standard_normal((B, S, 4))
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    grip = rng.standard_normal((B, S, 1))
    data = np.concatenate([pos, quat, grip], axis=-1)
    src = np.sort(rng.uniform(0, 5, (B, S)), axis=1)
    tgt = rng.uniform(-1, 6, (B, T))
    groups = [
        {"start": 0, "size": 3, "interp": "linear"},
        {"start": 3, "size": 4, "interp": "slerp"},
        {"start": 7, "size": 1, "interp": "previous"},
    ]
    out = ref.resample(data, src, tgt, groups=groups)
    np.testing.assert_array_equal(out[..., 0:3], ref.resample(pos, src, tgt, "linear"))
    np.testing.assert_array_equal(out[..., 3:7], ref.resample(quat, src, tgt, "slerp"))
    np.testing.assert_array_equal(out[..., 7:8], ref.resample(grip, src, tgt, "previous"))
    assert ref.channel_modes(8, groups=groups) == ["linear"] * 3 + ["slerp"] * 4 + ["previous"]


@pytest.mark.parametrize("mode", ["linear", "nearest", "previous", "cubic"])
def test_lengths_ignore_samples_past_the_end(mode):
    rng = np.random.default_rng(2)
    data = rng.standard_normal((3, 8, 2))
    src = np.sort(rng.uniform(0, 5, (3, 8)), axis=1)
    tgt = rng.uniform(-1, 6, (3, 11))
    lengths = np.array([8, 1, 4])
    garbage = data.copy()
    garbage[1, 1:] = 1e30
    garbage[2, 4:] = np.nan
    times = src.copy()
    times[2, 4:] = -7.0  # even out of order: they are not part of the row
    out = ref.resample(garbage, times, tgt, mode, lengths=lengths)
    for b, L in enumerate(lengths):
        np.testing.assert_array_equal(out[b], ref.resample(data[b:b + 1, :L], src[b:b + 1, :L], tgt[b:b + 1], mode)[0])


def test_shared_times_broadcast_over_the_batch():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, 6, 3))
    src = np.sort(rng.uniform(0, 5, 6))
    tgt = rng.uniform(-1, 6, 7)
    out = ref.resample(data, src, tgt, "cubic")
    per_row = ref.resample(data, np.stack([src, src]), np.stack([tgt, tgt]), "cubic")
    np.testing.assert_array_equal(out, per_row)


# ----------------------------------------------------------------------------------- fuse


def test_fuse_concatenates_modalities_in_argument_order():
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((2, 5, 3)), np.sort(rng.uniform(0, 4, 5)))
    b = (rng.standard_normal((2, 9, 1)), np.sort(rng.uniform(0, 4, (2, 9)), axis=1), np.array([9, 3]))
    tgt = rng.uniform(-1, 5, (2, 6))
    out = ref.fuse([a, b], tgt, ["cubic", "nearest"])
    assert out.shape == (2, 6, 4)
    np.testing.assert_array_equal(out[..., :3], ref.resample(a[0], a[1], tgt, "cubic"))
    np.testing.assert_array_equal(out[..., 3:], ref.resample(b[0], b[1], tgt, "nearest", lengths=b[2]))
    np.testing.assert_array_equal(ref.fuse([a], tgt, "previous"), ref.resample(a[0], a[1], tgt, "previous"))


# ----------------------------------------------------------------------------------- voxelize


def test_voxel_index_is_x_major_and_out_of_range_points_are_dropped():
    pts = np.array(
        [
            [1.5, 2.5, 3.5],  # (1, 2, 3) -> (1*3 + 2)*4 + 3 = 23
            [0.0, 0.0, 0.0],  # (0, 0, 0)
            [2.0, 0.0, 0.0],  # i == X: dropped, not clamped
            [-1e-9, 0.5, 0.5],  # i == -1: dropped
            [0.5, np.nan, 0.5],  # NaN: dropped
            [0.5, 0.5, np.inf],  # dropped
            [1.9, 2.9, 3.9],  # (1, 2, 3) again
        ]
    )
    flat, keep = ref.voxel_indices(pts, (0, 0, 0), 1.0, (2, 3, 4))
    np.testing.assert_array_equal(keep, [True, True, False, False, False, False, True])
    np.testing.assert_array_equal(flat[keep], [23, 0, 23])
    count = ref.voxelize(pts, (0, 0, 0), 1.0, (2, 3, 4), "count")
    assert count.dtype == np.int32 and count.shape == (2, 3, 4)
    assert count[1, 2, 3] == 2 and count[0, 0, 0] == 1 and count.sum() == 3
    occ = ref.voxelize(pts, (0, 0, 0), 1.0, (2, 3, 4))
    assert occ.dtype == np.float32
    np.testing.assert_array_equal(occ, (count > 0).astype(np.float32))
    occ8 = ref.voxelize(pts, (0, 0, 0), 1.0, (2, 3, 4), out_dtype=np.uint8)
    assert occ8.dtype == np.uint8 and occ8.sum() == 2


def test_voxel_index_uses_grid_min_and_anisotropic_sizes():
    pts = np.array([[-0.9, 1.0, 10.25]])
    flat, keep = ref.voxel_indices(pts, (-1.0, 0.0, 10.0), (0.5, 0.25, 0.125), (4, 5, 3))
    # (0.1/0.5, 1/0.25, 0.25/0.125) -> (0, 4, 2)
    assert keep[0] and flat[0] == (0 * 5 + 4) * 3 + 2


def test_voxel_index_is_computed_in_the_coordinate_dtype():
    # 0.3 / 0.1 is 2.9999999999999996 in f64 but 3 in f32 (float32(0.3) / float32(0.1) rounds up).
    pts = np.array([[0.3, 0.0, 0.0]])
    f64, _ = ref.voxel_indices(pts, (0, 0, 0), 0.1, (8, 1, 1))
    f32, _ = ref.voxel_indices(pts.astype(np.float32), (0, 0, 0), 0.1, (8, 1, 1))
    assert f64[0] == 2 and f32[0] == 3


def test_voxel_mean_and_max_with_empty_voxels_zero():
    pts = np.array([[0.5, 0.5, 0.5], [0.7, 0.2, 0.9], [1.5, 0.5, 0.5], [5.0, 0.0, 0.0]])
    feats = np.array([[1.0, -3.0], [4.0, -5.0], [-2.0, -1.0], [100.0, 100.0]], np.float32)
    mean = ref.voxelize(pts, (0, 0, 0), 1.0, (3, 1, 1), "mean", features=feats)
    mx = ref.voxelize(pts, (0, 0, 0), 1.0, (3, 1, 1), "max", features=feats)
    assert mean.shape == (3, 1, 1, 2) and mean.dtype == np.float32
    np.testing.assert_array_equal(mean[:, 0, 0], [[2.5, -4.0], [-2.0, -1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(mx[:, 0, 0], [[4.0, -3.0], [-2.0, -1.0], [0.0, 0.0]])
    mean64 = ref.voxelize(pts, (0, 0, 0), 1.0, (3, 1, 1), "mean", features=feats.astype(F64), out_dtype=F64)
    assert mean64.dtype == np.float64


def test_voxel_batches_with_lengths():
    pts = np.zeros((2, 3, 3))
    pts[0] = [[0.5, 0.5, 0.5], [1.5, 0.5, 0.5], [1.5, 0.5, 0.5]]
    pts[1] = [[1.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    count = ref.voxelize(pts, (0, 0, 0), 1.0, (2, 1, 1), "count", lengths=np.array([2, 1]))
    assert count.shape == (2, 2, 1, 1)
    np.testing.assert_array_equal(count[:, :, 0, 0], [[1, 1], [0, 1]])
    feats = np.arange(12.0).reshape(2, 3, 2)
    mean = ref.voxelize(pts, (0, 0, 0), 1.0, (2, 1, 1), "mean", features=feats, lengths=np.array([3, 3]))
    np.testing.assert_array_equal(mean[0, :, 0, 0], [[0.0, 1.0], [3.0, 4.0]])
    np.testing.assert_array_equal(mean[1, :, 0, 0], [[9.0, 10.0], [6.0, 7.0]])


def test_voxelize_empty_inputs():
    assert ref.voxelize(np.zeros((0, 3)), (0, 0, 0), 1.0, (2, 3, 4)).shape == (2, 3, 4)
    out = ref.voxelize(np.zeros((0, 5, 3)), (0, 0, 0), 1.0, (2, 3, 4), "max", features=np.zeros((0, 5, 2)))
    assert out.shape == (0, 2, 3, 4, 2)


# ----------------------------------------------------------------------------------- comparison helper


def test_assert_resample_close_accepts_rounded_references_and_rejects_wrong_ones():
    rng = np.random.default_rng(5)
    for dt in [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]:
        data = rng.standard_normal((2, 10, 3)).astype(dt)
        src = np.sort(rng.uniform(0, 5, 10))
        tgt = rng.uniform(-1, 6, 12)
        tgt[3] = np.nan
        for mode in ["linear", "nearest", "cubic"]:
            r = ref.resample(data, src, tgt, mode)
            good = r.astype(dt) if dt == np.float64 else ref.rounded(r, dt)
            ref.assert_resample_close(good, r, dt, [mode] * 3)
            bad = good.copy()
            bad[0, 0, 0] = bad[0, 0, 0] * 2 + 1
            with pytest.raises(AssertionError):
                ref.assert_resample_close(bad, r, dt, [mode] * 3)
            other = np.float32 if dt == np.float64 else np.float64
            with pytest.raises(AssertionError):  # wrong dtype
                ref.assert_resample_close(good.astype(other), r, dt, [mode] * 3)

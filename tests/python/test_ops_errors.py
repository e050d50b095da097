"""Errors of the high-level API (checked before launching, naming the argument or spec field),
empty batches, strided inputs and backend selection, on the CPU backend."""

from __future__ import annotations

import contextlib

import ml_dtypes
import numpy as np
import pytest

import reference as ref
import robocache

CPU = robocache.check_installation()["cpu"]["available"]
CUDA = robocache.check_installation()["cuda"]["available"]
needs_cpu = pytest.mark.skipif(not CPU, reason="built without the CPU backend")

f32, f64 = np.float32, np.float64


@contextlib.contextmanager
def raises(exc, argument, *fragments):
    """`exc` is raised and its message names `argument` (as "argument 'NAME") and holds every
    fragment (a tuple of fragments: any one of them)."""
    with pytest.raises(exc) as info:
        yield info
    msg = str(info.value)
    assert f"argument '{argument}" in msg, f"message does not name argument '{argument}': {msg}"
    for frag in fragments:
        alts = frag if isinstance(frag, tuple) else (frag,)
        assert any(x in msg for x in alts), f"message lacks {frag!r}: {msg}"


def spec_error(field):
    """ValueError naming a spec field, e.g. "spec field 'groups[1].size'"."""
    return pytest.raises(ValueError, match=rf"spec field '{field}'".replace("[", r"\[").replace("]", r"\]"))


F32_NAMES = ("f32", "float32")
F64_NAMES = ("f64", "float64")


def good_resample(B=2, S=5, T=3, D=4):
    return (np.zeros((B, S, D), f32), np.arange(S, dtype=f64), np.linspace(0, S, T))


# ============================================================================ resample: arrays

@needs_cpu
class TestResampleArrays:
    def test_data_rank(self):
        with raises(ValueError, "data", "3"):
            robocache.resample_trajectories(np.zeros((2, 5), f32), np.arange(5.0), np.arange(3.0))

    def test_src_times_rank(self):
        with raises(ValueError, "src_times"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), f32), np.zeros((2, 5, 1)), np.arange(3.0))

    def test_tgt_times_rank(self):
        with raises(ValueError, "tgt_times"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), f32), np.arange(5.0), np.zeros((2, 3, 1)))

    def test_src_times_length_differs_from_S(self):
        with raises(ValueError, "src_times", "5", "6"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), f32), np.arange(6.0), np.arange(3.0))

    def test_src_times_batch_differs(self):
        with raises(ValueError, "src_times", "2", "3"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), f32), np.zeros((3, 5)), np.arange(3.0))

    def test_tgt_times_batch_differs(self):
        with raises(ValueError, "tgt_times", "2", "3"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), f32), np.arange(5.0), np.zeros((3, 3)))

    def test_no_source_samples(self):
        with raises(ValueError, "data", "S"):
            robocache.resample_trajectories(np.zeros((2, 0, 4), f32), np.zeros(0), np.arange(3.0))

    @pytest.mark.parametrize("bad", [0, 6, -1])
    def test_length_outside_1_to_S(self, bad):
        with raises(ValueError, "lengths"):
            robocache.resample_trajectories(*good_resample(), lengths=np.array([5, bad], np.int64))

    def test_lengths_shape(self):
        with raises(ValueError, "lengths"):
            robocache.resample_trajectories(*good_resample(), lengths=np.array([5, 5, 5], np.int64))

    def test_lengths_dtype(self):
        with raises((ValueError, TypeError), "lengths"):
            robocache.resample_trajectories(*good_resample(), lengths=np.array([5.0, 5.0]))

    def test_tgt_times_dtype_differs_from_src_times(self):
        data, src, _ = good_resample()
        with raises(ValueError, "tgt_times", F32_NAMES, F64_NAMES):
            robocache.resample_trajectories(data, src, np.arange(3, dtype=f32))

    def test_times_of_an_integer_dtype(self):
        data, _, tgt = good_resample()
        with raises((ValueError, TypeError), "src_times"):
            robocache.resample_trajectories(data, np.arange(5, dtype=np.int64), tgt)

    def test_data_of_an_integer_dtype(self):
        _, src, tgt = good_resample()
        with raises((ValueError, TypeError), "data"):
            robocache.resample_trajectories(np.zeros((2, 5, 4), np.int32), src, tgt)

    def test_decreasing_source_times(self):
        data, _, tgt = good_resample()
        with raises(ValueError, "src_times", "decreas"):
            robocache.resample_trajectories(data, np.array([0.0, 1, 3, 2, 4]), tgt)

    def test_nan_source_times(self):
        data, _, tgt = good_resample()
        with raises(ValueError, "src_times", "NaN"):
            robocache.resample_trajectories(data, np.array([0.0, 1, np.nan, 3, 4]), tgt)

    def test_decreasing_per_row_source_times_in_a_later_row(self):
        data, _, tgt = good_resample()
        src = np.stack([np.arange(5.0), np.array([0.0, 1, 2, 4, 3])])
        with raises(ValueError, "src_times"):
            robocache.resample_trajectories(data, src, tgt)

    def test_validate_false_skips_the_time_check(self):
        data, _, tgt = good_resample()
        out = robocache.resample_trajectories(data, np.array([0.0, 1, 3, 2, 4]), tgt, validate=False)
        assert out.shape == (2, 3, 4)  # unspecified values, but no error and no crash

    @pytest.mark.parametrize("argument", ["data", "src_times", "tgt_times"])
    def test_non_arrays_are_a_type_error(self, argument):
        args = dict(zip(["data", "src_times", "tgt_times"], good_resample()))
        args[argument] = args[argument].tolist()
        with raises(TypeError, argument):
            robocache.resample_trajectories(**args)

    def test_lengths_not_an_array(self):
        with raises(TypeError, "lengths"):
            robocache.resample_trajectories(*good_resample(), lengths=[5, 5])


# ============================================================================ resample: spec fields


@needs_cpu
class TestResampleSpec:
    def test_unknown_interp(self):
        with spec_error("interp"):
            robocache.resample_trajectories(*good_resample(), interp="bezier")

    def test_slerp_needs_four_channels(self):
        with spec_error("interp"):
            robocache.resample_trajectories(*good_resample(D=3), interp="slerp")

    def test_slerp_group_of_three(self):
        groups = [{"start": 0, "size": 1, "interp": "linear"}, {"start": 1, "size": 3, "interp": "slerp"}]
        with spec_error("groups[1].size"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)

    def test_groups_with_a_gap(self):
        groups = [{"start": 0, "size": 1, "interp": "linear"}, {"start": 2, "size": 2, "interp": "linear"}]
        with spec_error("groups[1].start"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)

    def test_groups_short_of_D(self):
        groups = [{"start": 0, "size": 3, "interp": "linear"}]
        with spec_error("groups"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)

    def test_groups_beyond_D(self):
        groups = [{"start": 0, "size": 2, "interp": "linear"}, {"start": 2, "size": 3, "interp": "cubic"}]
        with spec_error("groups[1].size"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)

    def test_group_with_an_unknown_mode(self):
        groups = [{"start": 0, "size": 4, "interp": "spline"}]
        with spec_error("groups[0].interp"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)

    def test_group_of_size_zero(self):
        groups = [{"start": 0, "size": 0, "interp": "linear"}, {"start": 0, "size": 4, "interp": "linear"}]
        with spec_error("groups[0].size"):
            robocache.resample_trajectories(*good_resample(D=4), groups=groups)


# ============================================================================ fuse


def good_streams(B=2, T=3):
    return [
        (np.zeros((B, 5, 3), f32), np.arange(5.0)),
        (np.zeros((B, 7, 4), f32), np.zeros((B, 7)) + np.arange(7.0)),
        (np.zeros((B, 4, 1), f32), np.arange(4.0), np.array([4, 2] * (B // 2) + [4] * (B % 2), np.int64)),
    ], np.linspace(0, 4, T)


@needs_cpu
class TestFuseErrors:
    def test_no_streams(self):
        with raises(ValueError, "streams"):
            robocache.fuse_multimodal([], np.arange(3.0))

    def test_stream_data_rank(self):
        streams, tgt = good_streams()
        streams[1] = (np.zeros((2, 7), f32), streams[1][1])
        with raises(ValueError, "streams[1]"):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_times_length(self):
        streams, tgt = good_streams()
        streams[1] = (streams[1][0], np.arange(8.0))
        with raises(ValueError, "streams[1]", "7", "8"):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_batch_differs(self):
        streams, tgt = good_streams()
        streams[2] = (np.zeros((3, 4, 1), f32), np.arange(4.0))
        with raises(ValueError, "streams[2]", "2", "3"):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_times_batch_differs(self):
        streams, tgt = good_streams()
        streams[1] = (streams[1][0], np.zeros((3, 7)))
        with raises(ValueError, "streams[1]"):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_data_dtype_differs(self):
        streams, tgt = good_streams()
        streams[1] = (streams[1][0].astype(f64), streams[1][1])
        with raises(ValueError, "streams[1]", F32_NAMES, F64_NAMES):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_times_dtype_differs(self):
        streams, tgt = good_streams()
        streams[2] = (streams[2][0], streams[2][1].astype(f32), streams[2][2])
        with raises(ValueError, "streams[2]", F32_NAMES, F64_NAMES):
            robocache.fuse_multimodal(streams, tgt)

    def test_tgt_times_dtype_differs(self):
        streams, tgt = good_streams()
        with raises(ValueError, "tgt_times", F32_NAMES, F64_NAMES):
            robocache.fuse_multimodal(streams, tgt.astype(f32))

    def test_tgt_times_batch_differs(self):
        streams, _ = good_streams()
        with raises(ValueError, "tgt_times", "2", "3"):
            robocache.fuse_multimodal(streams, np.zeros((3, 3)))

    def test_stream_without_samples(self):
        streams, tgt = good_streams()
        streams[0] = (np.zeros((2, 0, 3), f32), np.zeros(0))
        with raises(ValueError, "streams[0]"):
            robocache.fuse_multimodal(streams, tgt)

    @pytest.mark.parametrize("bad", [0, 5])
    def test_stream_length_outside_1_to_S(self, bad):
        streams, tgt = good_streams()
        streams[2] = (streams[2][0], streams[2][1], np.array([4, bad], np.int64))
        with raises(ValueError, "streams[2]"):
            robocache.fuse_multimodal(streams, tgt)

    def test_decreasing_stream_times(self):
        streams, tgt = good_streams()
        streams[0] = (streams[0][0], np.array([0.0, 2, 1, 3, 4]))
        with raises(ValueError, "streams[0]"):
            robocache.fuse_multimodal(streams, tgt)

    def test_stream_not_a_tuple_of_arrays(self):
        streams, tgt = good_streams()
        streams[1] = (streams[1][0].tolist(), streams[1][1])
        with raises(TypeError, "streams[1]"):
            robocache.fuse_multimodal(streams, tgt)

    def test_interp_list_of_the_wrong_length(self):
        streams, tgt = good_streams()
        with pytest.raises(ValueError, match="'interp'"):
            robocache.fuse_multimodal(streams, tgt, interp=["linear", "cubic"])

    def test_unknown_interp(self):
        streams, tgt = good_streams()
        with pytest.raises(ValueError, match="spec field '(modalities\\[1\\]\\.)?interp'"):
            robocache.fuse_multimodal(streams, tgt, interp=["linear", "wiggle", "linear"])

    def test_slerp_modality_needs_four_channels(self):
        streams, tgt = good_streams()
        with spec_error("modalities[0].interp"):
            robocache.fuse_multimodal(streams, tgt, interp=["slerp", "slerp", "linear"])


# ============================================================================ voxelize


def cloud(N=10, batched=False):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, size=((2, N, 3) if batched else (N, 3))).astype(f32)


@needs_cpu
class TestVoxelizeErrors:
    @pytest.mark.parametrize("size", [0.0, -0.5, (0.1, 0.0, 0.1), (0.1, 0.1, -1.0), float("nan")])
    def test_non_positive_voxel_size(self, size):
        with raises(ValueError, "voxel_size"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), size, (4, 4, 4))

    def test_voxel_size_of_two_values(self):
        with raises(ValueError, "voxel_size"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), (0.1, 0.1), (4, 4, 4))

    @pytest.mark.parametrize("shape", [(0, 4, 4), (4, -1, 4), (4, 4, 0)])
    def test_non_positive_grid_dimension(self, shape):
        with raises(ValueError, "grid_shape"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, shape)

    def test_grid_shape_of_two_values(self):
        with raises(ValueError, "grid_shape"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4))

    def test_grid_too_large(self):
        with raises(ValueError, "grid_shape"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (2**21, 2**21, 2**21))

    def test_grid_min_of_two_values(self):
        with raises(ValueError, "grid_min"):
            robocache.voxelize_pointcloud(cloud(), (0, 0), 0.25, (4, 4, 4))

    @pytest.mark.parametrize("shape", [(10, 2), (10, 4), (2, 10, 2)])
    def test_last_axis_other_than_3(self, shape):
        with raises(ValueError, "points", "3"):
            robocache.voxelize_pointcloud(np.zeros(shape, f32), (0, 0, 0), 0.25, (4, 4, 4))

    @pytest.mark.parametrize("shape", [(3,), (1, 2, 10, 3)])
    def test_points_rank(self, shape):
        with raises(ValueError, "points"):
            robocache.voxelize_pointcloud(np.zeros(shape, f32), (0, 0, 0), 0.25, (4, 4, 4))

    def test_points_of_a_half_dtype(self):
        with raises((ValueError, TypeError), "points"):
            robocache.voxelize_pointcloud(cloud().astype(np.float16), (0, 0, 0), 0.25, (4, 4, 4))

    def test_points_not_an_array(self):
        with raises(TypeError, "points"):
            robocache.voxelize_pointcloud(cloud().tolist(), (0, 0, 0), 0.25, (4, 4, 4))

    @pytest.mark.parametrize("mode", ["mean", "max"])
    def test_feature_mode_without_features(self, mode):
        with raises(ValueError, "features"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), mode=mode)

    def test_features_count_differs_from_points(self):
        with raises(ValueError, "features", "10", "9"):
            robocache.voxelize_pointcloud(cloud(10), (0, 0, 0), 0.25, (4, 4, 4), mode="mean",
                                          features=np.zeros((9, 2), f32))

    def test_features_rank(self):
        with raises(ValueError, "features"):
            robocache.voxelize_pointcloud(cloud(10), (0, 0, 0), 0.25, (4, 4, 4), mode="max",
                                          features=np.zeros(10, f32))

    def test_features_batch_differs(self):
        with raises(ValueError, "features"):
            robocache.voxelize_pointcloud(cloud(10, batched=True), (0, 0, 0), 0.25, (4, 4, 4), mode="max",
                                          features=np.zeros((3, 10, 2), f32))

    def test_lengths_outside_0_to_N(self):
        with raises(ValueError, "lengths"):
            robocache.voxelize_pointcloud(cloud(10, batched=True), (0, 0, 0), 0.25, (4, 4, 4), mode="count",
                                          lengths=np.array([3, 11]))

    def test_lengths_batch_differs(self):
        with raises(ValueError, "lengths"):
            robocache.voxelize_pointcloud(cloud(10, batched=True), (0, 0, 0), 0.25, (4, 4, 4), mode="count",
                                          lengths=np.array([3, 4, 5]))

    def test_unknown_mode(self):
        with spec_error("mode"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), mode="median")

    @pytest.mark.parametrize("mode, dtype", [("count", f32), ("mean", np.int32), ("max", np.uint8),
                                             ("occupancy", np.float16)])
    def test_output_dtype_not_allowed_for_the_mode(self, mode, dtype):
        feats = np.zeros((10, 2), f32) if mode in ("mean", "max") else None
        with pytest.raises((ValueError, TypeError), match="out_dtype"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), mode=mode, features=feats,
                                          out_dtype=dtype)


# ============================================================================ empty batches


@needs_cpu
class TestEmpty:
    @pytest.mark.parametrize("interp", ref.MODES)
    def test_resample_empty_batch(self, interp):
        out = robocache.resample_trajectories(np.zeros((0, 5, 4), f32), np.zeros((0, 5)), np.zeros((0, 3)),
                                              interp=interp)
        assert isinstance(out, np.ndarray) and out.shape == (0, 3, 4) and out.dtype == f32

    def test_resample_empty_batch_with_shared_times_and_lengths(self):
        out = robocache.resample_trajectories(np.zeros((0, 5, 2), f64), np.arange(5.0), np.arange(3.0),
                                              lengths=np.zeros(0, np.int64))
        assert out.shape == (0, 3, 2) and out.dtype == f64

    @pytest.mark.parametrize("vdt", [f32, f64, np.float16, ml_dtypes.bfloat16])
    def test_resample_no_targets(self, vdt):
        out = robocache.resample_trajectories(np.zeros((2, 5, 2), vdt), np.arange(5.0), np.zeros(0))
        assert out.shape == (2, 0, 2) and out.dtype == vdt
        out = robocache.resample_trajectories(np.zeros((2, 5, 2), vdt), np.arange(5.0), np.zeros((2, 0)))
        assert out.shape == (2, 0, 2)

    def test_fuse_empty_batch_and_no_targets(self):
        streams, _ = good_streams(B=0)
        streams[2] = (np.zeros((0, 4, 1), f32), np.arange(4.0), np.zeros(0, np.int64))
        out = robocache.fuse_multimodal(streams, np.zeros((0, 3)))
        assert out.shape == (0, 3, 8) and out.dtype == f32
        streams, _ = good_streams(B=2)
        out = robocache.fuse_multimodal(streams, np.zeros(0))
        assert out.shape == (2, 0, 8)

    @pytest.mark.parametrize("mode", ["occupancy", "count", "mean", "max"])
    def test_voxelize_no_points(self, mode):
        feats = np.zeros((0, 2), f32) if mode in ("mean", "max") else None
        out = robocache.voxelize_pointcloud(np.zeros((0, 3), f32), (0, 0, 0), 0.5, (2, 3, 4), mode=mode,
                                            features=feats)
        want = ref.voxelize(np.zeros((0, 3), f32), (0, 0, 0), 0.5, (2, 3, 4), mode, feats)
        ref.assert_same_bits(out, want)

    def test_voxelize_empty_batch_and_empty_rows(self):
        out = robocache.voxelize_pointcloud(np.zeros((0, 5, 3), f32), (0, 0, 0), 0.5, (2, 3, 4), mode="count")
        assert out.shape == (0, 2, 3, 4) and out.dtype == np.int32
        out = robocache.voxelize_pointcloud(np.zeros((2, 0, 3), f32), (0, 0, 0), 0.5, (2, 3, 4), mode="max",
                                            features=np.zeros((2, 0, 3), f32))
        assert out.shape == (2, 2, 3, 4, 3) and not out.any()
        pts = np.full((2, 4, 3), 0.25, f32)
        out = robocache.voxelize_pointcloud(pts, (0, 0, 0), 0.5, (2, 3, 4), mode="count",
                                            lengths=np.array([0, 4]))
        assert out[0].sum() == 0 and out[1, 0, 0, 0] == 4


# ============================================================================ strided inputs


def widen(a, step=3):
    """A strided view with the values of `a` (every `step`-th element of the last axis)."""
    wide = np.zeros(a.shape[:-1] + (step * a.shape[-1],), dtype=a.dtype)
    wide[..., ::step] = a
    view = wide[..., ::step]
    assert not view.flags.c_contiguous
    return view


@needs_cpu
class TestStrided:
    @pytest.mark.parametrize("interp", ref.MODES)
    def test_resample_strided_data_times_and_lengths(self, interp):
        rng = np.random.default_rng(1)
        D = 4 if interp == "slerp" else 5
        data = rng.standard_normal((3, 30, D)).astype(f32)
        if interp == "slerp":
            data /= np.linalg.norm(data, axis=-1, keepdims=True)
        src = np.sort(rng.uniform(0, 10, (3, 30)), axis=1)
        tgt = rng.uniform(-1, 11, (3, 40))
        lengths = np.array([30, 7, 19], np.int64)
        plain = robocache.resample_trajectories(data, src, tgt, interp=interp, lengths=lengths)
        ref.assert_resample_close(plain, ref.resample(data, src, tgt, interp, lengths=lengths), f32, [interp] * D)
        strided = robocache.resample_trajectories(widen(data), widen(src), widen(tgt), interp=interp,
                                                  lengths=widen(lengths))
        ref.assert_same_bits(strided, plain)
        # A time-major buffer seen as [B,S,D], and reversed-stride views.
        tm = np.ascontiguousarray(data.transpose(1, 0, 2)).transpose(1, 0, 2)
        rev = src[:, ::-1].copy()[:, ::-1]
        ref.assert_same_bits(robocache.resample_trajectories(tm, rev, tgt, interp=interp, lengths=lengths), plain)

    def test_resample_strided_bf16(self):
        rng = np.random.default_rng(2)
        data = rng.standard_normal((2, 20, 3)).astype(ml_dtypes.bfloat16)
        src = np.sort(rng.uniform(0, 10, 20)).astype(f32)
        tgt = rng.uniform(-1, 11, 9).astype(f32)
        plain = robocache.resample_trajectories(data, src, tgt, interp="cubic")
        ref.assert_same_bits(robocache.resample_trajectories(widen(data), widen(src), widen(tgt), interp="cubic"),
                             plain)

    def test_fuse_strided(self):
        streams, tgt = good_streams()
        rng = np.random.default_rng(3)
        streams = [tuple(rng.standard_normal(a.shape).astype(a.dtype) if i == 0 else a for i, a in enumerate(s))
                   for s in streams]
        plain = robocache.fuse_multimodal(streams, tgt, interp=["cubic", "nearest", "linear"])
        strided = [tuple(widen(a) for a in s) for s in streams]
        ref.assert_same_bits(robocache.fuse_multimodal(strided, widen(tgt), interp=["cubic", "nearest", "linear"]),
                             plain)

    @pytest.mark.parametrize("mode", ["occupancy", "count", "mean", "max"])
    def test_voxelize_strided_points_and_features(self, mode):
        rng = np.random.default_rng(4)
        pts = rng.uniform(-0.2, 2.2, (2, 200, 3)).astype(f32)
        feats = rng.standard_normal((2, 200, 3)).astype(f32) if mode in ("mean", "max") else None
        lengths = np.array([200, 57])
        plain = robocache.voxelize_pointcloud(pts, (0, 0, 0), 0.25, (8, 8, 8), mode=mode, features=feats,
                                              lengths=lengths)
        want = ref.voxelize(pts, (0, 0, 0), 0.25, (8, 8, 8), mode, feats, lengths)
        if mode == "mean":
            np.testing.assert_allclose(plain, want, rtol=1e-5, atol=1e-5)
        else:
            ref.assert_same_bits(plain, want)
        soa = np.ascontiguousarray(pts.transpose(2, 0, 1)).transpose(1, 2, 0)  # x, y, z planes
        out = robocache.voxelize_pointcloud(soa, (0, 0, 0), 0.25, (8, 8, 8), mode=mode,
                                            features=None if feats is None else widen(feats), lengths=widen(lengths))
        if mode == "mean":
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
        else:
            ref.assert_same_bits(out, want)


# ============================================================================ backends


class TestBackends:
    def test_unknown_backend(self):
        with raises(ValueError, "backend"):
            robocache.resample_trajectories(*good_resample(), backend="tpu")
        with raises(ValueError, "backend"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), backend="tpu")
        streams, tgt = good_streams()
        with raises(ValueError, "backend"):
            robocache.fuse_multimodal(streams, tgt, backend="tpu")

    @pytest.mark.skipif(CUDA, reason="this machine has a usable CUDA backend")
    def test_cuda_backend_without_a_gpu(self):
        # Forcing CUDA with host arrays where CUDA is unusable: either error is truthful (the
        # backend is unavailable; the arrays are not on a GPU), never a silent CPU run.
        with pytest.raises((robocache.BackendUnavailable, ValueError)):
            robocache.resample_trajectories(*good_resample(), backend="cuda")
        with pytest.raises((robocache.BackendUnavailable, ValueError)):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), backend="cuda")

    @pytest.mark.skipif(not CUDA, reason="needs a usable CUDA backend")
    def test_cuda_backend_with_numpy_arrays_names_the_argument(self):
        with raises(ValueError, "data"):
            robocache.resample_trajectories(*good_resample(), backend="cuda")
        with raises(ValueError, "points"):
            robocache.voxelize_pointcloud(cloud(), (0, 0, 0), 0.25, (4, 4, 4), backend="cuda")
        streams, tgt = good_streams()
        with raises(ValueError, "streams[0]"):
            robocache.fuse_multimodal(streams, tgt, backend="cuda")

    @pytest.mark.skipif(CPU, reason="this build has the CPU backend")
    def test_cpu_backend_unavailable(self):
        with pytest.raises(robocache.BackendUnavailable):
            robocache.resample_trajectories(*good_resample(), backend="cpu")

    @needs_cpu
    def test_auto_and_cpu_give_the_same_numpy_result(self):
        rng = np.random.default_rng(5)
        data = rng.standard_normal((2, 8, 3)).astype(f32)
        src, tgt = np.arange(8.0), rng.uniform(-1, 9, 6)
        a = robocache.resample_trajectories(data, src, tgt, backend="auto")
        c = robocache.resample_trajectories(data, src, tgt, backend="cpu")
        assert isinstance(a, np.ndarray)
        ref.assert_same_bits(a, c)

    @needs_cpu
    def test_mixed_numpy_and_torch_arrays(self):
        torch = pytest.importorskip("torch")
        data, src, tgt = good_resample()
        with pytest.raises((TypeError, ValueError), match="argument 'src_times'"):
            robocache.resample_trajectories(data, torch.from_numpy(src), tgt)

    @needs_cpu
    def test_torch_cpu_tensors_run_on_the_cpu_and_come_back_as_torch(self):
        torch = pytest.importorskip("torch")
        rng = np.random.default_rng(6)
        data = rng.standard_normal((2, 8, 3)).astype(f32)
        src, tgt = np.arange(8.0), rng.uniform(-1, 9, 6)
        out = robocache.resample_trajectories(torch.from_numpy(data), torch.from_numpy(src), torch.from_numpy(tgt))
        assert isinstance(out, torch.Tensor) and out.device.type == "cpu" and out.dtype == torch.float32
        ref.assert_same_bits(out.numpy(), robocache.resample_trajectories(data, src, tgt))
        if CUDA:
            with raises(ValueError, "data"):
                robocache.resample_trajectories(torch.from_numpy(data), torch.from_numpy(src),
                                                torch.from_numpy(tgt), backend="cuda")

"""Clock repair and the alignment rules that need no file: the duplicate rule (first recorded
wins), out-of-order samples moved and flagged, masks for gaps, tolerance and padding."""

import numpy as np
import pytest

from robocache.io import Episode, Stream, align, repair

pytestmark = pytest.mark.cpu_backend


def test_repair_sorts_keeps_the_first_duplicate_and_flags_what_it_touched():
    t = np.array([10, 20, 40, 30, 40, 50], np.int64)  # 30 out of order; 40 twice
    c = repair(t)
    assert c.times_ns.tolist() == [10, 20, 30, 40, 50]
    assert c.index.tolist() == [0, 1, 3, 2, 5]  # the first 40 recorded (index 2) is kept
    assert c.suspect.tolist() == [False, False, True, True, False]
    assert (c.out_of_order, c.duplicates) == (1, 1)
    assert "sample 3 stamped 30 ns" in c.first_problem


def test_a_clean_clock_is_used_as_is():
    t = np.arange(5, dtype=np.int64) * 7
    c = repair(t)
    assert c.times_ns is t and not c.repaired and not c.suspect.any()


def _episode(times, values, mode="linear", name="s"):
    return Episode("e", {name: Stream(name, np.asarray(times, np.int64), np.asarray(values, float), ["v"], mode)})


def test_masks_outside_gap_tolerance_and_padding():
    sec = 1_000_000_000
    ep = _episode([0, sec, 2 * sec, 5 * sec, 6 * sec], [0, 1, 2, 5, 6])
    short = _episode([0, sec], [0, 1])
    batch = align([ep, short], 2.0, max_gap=1.5, tolerance=0.3)  # targets every 0.5 s
    assert batch.lengths.tolist() == [13, 3]
    m = batch.mask[0, :, 0]
    # 2.5 s .. 4.5 s lie in the 3 s gap; 0.5 s steps are within 0.5 s of a sample, so tolerance 0.3 masks x.5
    want = [t in (0, 1, 2, 5, 6) for t in np.arange(13) * 0.5]
    assert m.tolist() == want
    assert batch.mask[1, :3, 0].tolist() == [True, False, True] and not batch.mask[1, 3:].any()
    assert np.array_equal(batch.values[0, :, 0], np.arange(13) * 0.5)  # masked or not, values are the kernel's


def test_a_target_reading_a_repaired_sample_is_masked_and_the_rest_trusted():
    sec = 1_000_000_000
    ep = _episode([0, sec, 3 * sec, 2 * sec, 4 * sec], [0, 1, 3, 2, 4], mode="previous")
    batch = align(ep, 2.0, max_gap=None)
    # sample 2 s arrived out of order: previous reads it on [2 s, 3 s)
    assert batch.mask[0, :, 0].tolist() == [True, True, True, True, False, False, True, True, True]
    assert batch.values[0, :, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4]


def test_wrapped_angles_take_the_shorter_arc():
    sec = 1_000_000_000
    ep = _episode([0, sec], [3.0, -3.0], mode="wrapped")  # 3 rad to -3 rad: 0.28 rad through pi
    out = align(ep, 4.0, dtype="f64").values[0, :, 0]
    step = (2 * np.pi - 6.0) / 4
    want = (np.array([3.0 + k * step for k in range(5)]) + np.pi) % (2 * np.pi) - np.pi
    assert np.allclose(out, want, atol=1e-12)


def test_bad_arguments_name_themselves():
    ep = _episode([0, 1], [0, 1])
    with pytest.raises(ValueError, match="'reference'.*no stream 'nope'"):
        align(ep, "nope")
    with pytest.raises(ValueError, match="'modes'.*slerp needs 4 channels"):
        align(ep, 10.0, modes={"s": "slerp"})
    with pytest.raises(ValueError, match="'streams'.*no episode has a stream 'x'"):
        align(ep, 10.0, streams=["x"])
    with pytest.raises(ValueError, match="'dtype'"):
        align(ep, 10.0, dtype="f16")


def test_more_streams_than_one_fuse_kernel_takes_are_split_over_calls():
    from io_reference import rate_targets, stream_reference

    rng = np.random.default_rng(0)
    streams = {}
    for k in range(20):  # a fuse spec has at most 16 modalities
        t = np.sort(rng.choice(10**9, 40, replace=False)).astype(np.int64)
        mode = ["linear", "previous", "nearest"][k % 3]
        streams[f"s{k}"] = Stream(f"s{k}", t, rng.standard_normal((40, 2)), ["a", "b"], mode)
    batch = align(Episode("e", streams), 50.0, max_gap=None)
    first = min(int(s.times_ns[0]) for s in streams.values())
    last = max(int(s.times_ns[-1]) for s in streams.values())
    targets = rate_targets(first, last, 50.0)
    for i, (name, s) in enumerate(streams.items()):
        want, valid = stream_reference(s.times_ns, s.values, targets, s.mode, max_gap=None)
        assert np.array_equal(batch.mask[0, :, i], valid), name
        assert np.allclose(batch.stream(name)[0], want, rtol=1e-6, atol=1e-6), name

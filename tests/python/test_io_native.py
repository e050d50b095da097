"""align's native passes (python/bind_io.cpp) against the numpy versions of the same rules
(clocks.repair_numpy, masks.stream_mask_numpy, report.stream_report), on random faulty clocks:
the repaired clock, the masks, the samples the kernel reads and the report are the same."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from io_reference import rate_targets, stream_reference
from robocache.io import Episode, Stream, align
from robocache.io.clocks import repair, repair_numpy
from robocache.io.masks import stream_mask, stream_mask_numpy
from robocache.io.report import interval_stats, report_from_stats, stream_report

pytestmark = pytest.mark.cpu_backend


def faulty_clock(rng, n, period=1000, jitter=0.3, drop=0.05, dup=0.05, late=0.05):
    """A jittered clock with dropped, repeated and out-of-order stamps, as a recorder writes it."""
    t = np.cumsum(rng.integers(int(period * (1 - jitter)), int(period * (1 + jitter)) + 1, n)).astype(np.int64)
    t = t[rng.random(n) >= drop]
    if len(t) > 2:
        rep = rng.random(len(t)) < dup
        t = np.insert(t, np.flatnonzero(rep), t[rep])  # a repeat recorded right before the sample
        for j in np.flatnonzero(rng.random(len(t) - 1) < late):
            t[j], t[j + 1] = t[j + 1], t[j]  # two recorded the wrong way round
    return t


clocks = st.builds(lambda seed, n, period, dup, late: faulty_clock(np.random.default_rng(seed), n, period,
                                                                   dup=dup, late=late),
                   st.integers(0, 2**32 - 1), st.integers(1, 400), st.sampled_from([7, 1000, 999_983]),
                   st.sampled_from([0.0, 0.05, 0.3]), st.sampled_from([0.0, 0.05, 0.3]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clocks)
def test_native_repair_is_the_numpy_rule(t):
    got, want = repair(t), repair_numpy(t)
    assert np.array_equal(got.times_ns, want.times_ns)
    assert np.array_equal(got.index, want.index)
    assert np.array_equal(got.suspect, want.suspect)
    assert (got.out_of_order, got.duplicates, got.first_problem) == (want.out_of_order, want.duplicates,
                                                                      want.first_problem)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clocks, st.sampled_from(["linear", "previous", "nearest"]), st.sampled_from([None, 300, 5000]),
       st.sampled_from([None, 1500, 10**7]), st.integers(1, 300), st.integers(-3000, 3000))
def test_native_masks_are_the_numpy_rule(t, mode, tolerance, gap, rate_div, shift):
    assume(len(t) > 0)  # align masks a stream without samples before it gets here
    c = repair(t)
    span = int(c.times_ns[-1] - c.times_ns[0]) + 1
    x = np.sort(c.times_ns[0] + shift + np.arange(0, span, max(span // rate_div, 1)).astype(np.int64))
    x = np.concatenate([x, c.times_ns[::3]])  # targets on samples too
    x.sort()
    got = stream_mask(c.times_ns, x, mode, tolerance, gap, c.suspect)
    want = stream_mask_numpy(c.times_ns, x, mode, tolerance, gap, c.suspect)
    assert np.array_equal(got.valid, want.valid)
    assert np.array_equal(got.needed, want.needed)
    assert got.counts == want.counts


@pytest.mark.parametrize("n", [2, 3, 1000, 40_000, 200_001])
@pytest.mark.parametrize("max_gap", ["auto", None, 0.000002])
def test_native_interval_stats_match_the_numpy_report(n, max_gap):
    rng = np.random.default_rng(n)
    c = repair(faulty_clock(rng, n))
    got = report_from_stats("e", "s", n, c, int(c.times_ns[0]), interval_stats(c, max_gap))
    dt = np.diff(c.times_ns)
    gap_ns = None if max_gap is None else int(4 * np.median(dt)) if max_gap == "auto" else 2000
    want = stream_report("e", "s", n, c, int(c.times_ns[0]), gap_ns)
    assert got.rate_hz == want.rate_hz  # the median exactly, as numpy has it
    assert (got.gaps, got.max_interval_ms, got.duplicates, got.out_of_order) == (
        want.gaps, want.max_interval_ms, want.duplicates, want.out_of_order)
    assert got.max_gap_ms == want.max_gap_ms or (np.isnan(got.max_gap_ms) and np.isnan(want.max_gap_ms))
    assert got.jitter_ms == pytest.approx(want.jitter_ms, rel=1e-9, abs=1e-12)


def test_a_clock_the_median_sample_misjudges_still_gets_its_exact_median():
    # every 9th interval short: the strided sample of the one-pass median sees only those
    n = 40_001
    dt = np.where(np.arange(n - 1) % 9 == 0, 1000, 2000 + np.arange(n - 1) % 7)
    c = repair(np.concatenate([[0], np.cumsum(dt)]).astype(np.int64))
    got = report_from_stats("e", "s", n, c, 0, interval_stats(c, "auto"))
    want = stream_report("e", "s", n, c, 0, int(4 * np.median(dt)))
    assert got.rate_hz == want.rate_hz == 1e9 / np.median(dt)
    assert got.jitter_ms == pytest.approx(want.jitter_ms, rel=1e-9)


def test_a_regular_clock_has_its_interval_as_median():
    t = np.arange(100_000, dtype=np.int64) * 5_000_000
    c = repair(t)
    assert interval_stats(c, "auto")[0] == 5_000_000.0 and interval_stats(c, "auto")[6] == 20_000_000


def test_wrapped_angles_with_more_streams_than_one_call_takes():
    """A wrapped stream beside 20 others: more modalities than one fuse call takes, so the batch
    is assembled from several calls instead of written by one; both ways give the reference."""
    rng = np.random.default_rng(3)
    streams = {}
    for k in range(20):
        t = np.sort(rng.choice(10**9, 50, replace=False)).astype(np.int64)
        streams[f"s{k}"] = Stream(f"s{k}", t, rng.standard_normal((50, 1)), ["a"], ["linear", "previous"][k % 2])
    t = np.sort(rng.choice(10**9, 80, replace=False)).astype(np.int64)
    streams["yaw"] = Stream("yaw", t, np.cumsum(rng.uniform(-2, 2, 80))[:, None] % (2 * np.pi) - np.pi,
                            ["yaw"], "wrapped")
    for names in (list(streams), ["s0", "yaw", "s1"]):  # several calls; one call with a placeholder
        ep = Episode("e", {n: streams[n] for n in names})
        batch = align(ep, 40.0, max_gap=None)
        first = min(int(s.times_ns[0]) for s in ep.streams.values())
        last = max(int(s.times_ns[-1]) for s in ep.streams.values())
        targets = rate_targets(first, last, 40.0)
        for i, name in enumerate(names):
            s = streams[name]
            want, valid = stream_reference(s.times_ns, s.values, targets, s.mode, max_gap=None)
            assert np.array_equal(batch.mask[0, :, i], valid), name
            got = batch.stream(name)[0].astype(np.float64)
            if s.mode == "wrapped":  # compare on the circle
                got, want = np.exp(1j * got), np.exp(1j * want)
            assert np.allclose(got, want, rtol=1e-6, atol=1e-6), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_wrap_is_numpys_remainder_bit_for_bit(dtype):
    from robocache.io.alignment import _wrap_into

    rng = np.random.default_rng(1)
    edges = np.array([np.pi, -np.pi, 3 * np.pi, 0.0, -0.0, 1e-300, -1e-300, 2 * np.pi])
    src = np.concatenate([rng.uniform(-50, 50, (2, 996, 5)), np.resize(edges, 40).reshape(2, 4, 5)], axis=1)
    dst = np.zeros((2, 1000, 9), dtype)
    _wrap_into(src, 1, 3, dst, 4)
    want = ((src[..., 1:4] + np.pi) % (2 * np.pi) - np.pi).astype(dtype)
    assert np.array_equal(dst[..., 4:7], want) and np.array_equal(np.signbit(dst[..., 4:7]), np.signbit(want))
    assert not dst[..., :4].any() and not dst[..., 7:].any()  # the other columns untouched


def kernel_path(monkeypatch):
    """align with every stream resampled by the kernels (no native direct resampling)."""
    import robocache.io.alignment as alignment

    monkeypatch.setattr(alignment, "_DIRECT_MODE", {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["f32", "f64"]), st.sampled_from([None, 0.0013]),
       st.sampled_from([333.0, 1000.0, "b"]))
def test_native_resampling_gives_the_kernels_bits(monkeypatch, seed, dtype, tolerance, reference):
    """linear, previous, nearest and wrapped streams resampled natively into the batch (on faulty
    clocks, with exact hits, targets outside a stream, a stream one episode lacks) are the bits the
    resample kernels give on the rows align packs for them; slerp stays with the kernels."""
    rng = np.random.default_rng(seed)

    def episode(k, with_c):
        ta = faulty_clock(rng, int(rng.integers(5, 300)), 1_000_000)
        tb = faulty_clock(rng, int(rng.integers(5, 300)), 3_000_000)
        tb = np.concatenate([ta[:3], tb]) if len(ta) > 3 else tb  # some stamps shared with a: exact hits
        angle = np.cumsum(rng.normal(0, 2.0, (len(ta), 2)), axis=0)  # spins through many turns
        q = rng.normal(size=(len(tb), 4))
        streams = [Stream("a", ta, rng.normal(size=(len(ta), 3)) * 10.0 ** rng.integers(-3, 4), ["x", "y", "z"]),
                   Stream("a.angle", ta, angle, ["p", "q"], mode="wrapped"),
                   Stream("b", tb, rng.normal(size=(len(tb), 2)), ["u", "v"], mode="previous"),
                   Stream("b.q", tb, q / np.linalg.norm(q, axis=1, keepdims=True), list("xyzw"), mode="slerp"),
                   Stream("b.near", tb, rng.normal(size=(len(tb), 1)), ["n"], mode="nearest")]
        if with_c:
            tc = faulty_clock(rng, int(rng.integers(1, 50)), 20_000_000)
            streams.append(Stream("c", tc, rng.normal(size=(len(tc), 1)), ["w"]))
        return Episode(f"e{k}", {s.name: s for s in streams})

    eps = [episode(0, True), episode(1, False)]
    args = dict(streams=["a", "a.angle", "b", "b.q", "b.near", "c"], tolerance=tolerance, dtype=dtype)
    got = align(eps, reference, **args)
    with monkeypatch.context() as m:
        kernel_path(m)
        want = align(eps, reference, **args)
    assert got.values.dtype == want.values.dtype
    assert np.array_equal(got.mask, want.mask)
    bits = np.uint32 if got.values.dtype == np.float32 else np.uint64
    assert np.array_equal(got.values.view(bits), want.values.view(bits))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_resampling_wraps_as_numpys_remainder_far_from_zero(dtype):
    """A wrapped stream read at its own stamps is numpy's (v + pi) % (2 pi) - pi of its values, bit
    for bit, for angles up to 3e5 radians either side of zero (steps under pi: no unwrapping)."""
    from robocache._native import _robocache

    rng = np.random.default_rng(5)
    n = 200_000
    v = np.cumsum(rng.uniform(0, 3.1, n)) - 3.1 * n / 2  # about -3e5 .. 0 rad
    v = np.concatenate([v, v[-1] + np.cumsum(rng.uniform(0, 3.1, n))])  # .. 3e5
    turns = np.arange(np.ceil(v[0] / (2 * np.pi)), v[-1] / (2 * np.pi), 1000) * (2 * np.pi)
    v = np.sort(np.concatenate([v, turns, turns - np.pi]))  # exact multiples of 2 pi, and of pi
    t = np.arange(len(v), dtype=np.int64) * 1000
    out = np.zeros((1, len(v), 1), dtype)
    _robocache.io_resample_into([(t, None, [v[:, None]], [3], [0])], 0, t, out, 0)
    want = ((v + np.pi) % (2 * np.pi) - np.pi).astype(dtype)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    assert np.array_equal(out[0, :, 0].view(bits), want.view(bits))


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_native_resampling_in_parts_gives_the_same_bits(parts):
    """The targets of an episode shared out over threads (part k of n, each finding where every
    clock's merge and wrapped walk stand) give the bits one pass gives."""
    from robocache._native import _robocache

    rng = np.random.default_rng(parts)
    clocks, width = [], 0
    for n, period in ((500, 1_000_000), (120, 4_000_000), (3, 50_000_000)):
        c = repair(faulty_clock(rng, n, period))
        values = [np.cumsum(rng.normal(0, 2.0, (int(c.index.max()) + 1, 2)), axis=0) for _ in range(4)]
        clocks.append((c.times_ns, c.index, values, [0, 1, 2, 3], [width, width + 2, width + 4, width + 6]))
        width += 8
    t0 = min(int(c[0][0]) for c in clocks)
    x = np.sort(rng.integers(-10_000_000, 600_000_000, 1000)).astype(np.int64)
    for dtype in (np.float32, np.float64):
        one = np.zeros((1, len(x), width), dtype)
        _robocache.io_resample_into(clocks, t0, x, one, 0)
        split = np.zeros_like(one)
        for part in range(parts):
            _robocache.io_resample_into(clocks, t0, x, split, 0, part, parts)
        bits = np.uint32 if dtype == np.float32 else np.uint64
        assert np.array_equal(one.view(bits), split.view(bits))


def _bits_equal(got, want):
    bits = np.uint32 if got.dtype == np.float32 else np.uint64
    return got.dtype == want.dtype and np.array_equal(got.view(bits), want.view(bits))


@pytest.mark.parametrize("dtype", ["f32", "f64"])
def test_native_slerp_gives_the_kernels_bits_on_every_branch(monkeypatch, dtype):
    """Slerp resampled natively is the kernel's emit_slerp bit for bit on each of its branches:
    neighbours on opposite hemispheres (the shorter arc), equal and nearly equal quaternions (the
    nlerp below 1e-6 rad), half turns, exact hits (a zero weight copies v[l]), targets outside the
    clock, and many targets between one pair of neighbours (what one pair gives is kept between
    targets)."""
    rng = np.random.default_rng(11)
    n = 400
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[1::7] = -q[0::7][: len(q[1::7])]  # the antipode of the one before: the same rotation
    q[2::7] = q[1::7][: len(q[2::7])]  # equal: angle 0
    near = q[3::7] + 1e-9 * rng.normal(size=q[3::7].shape)
    q[4::7][: len(near)] = near[: len(q[4::7])] / np.linalg.norm(near[: len(q[4::7])], axis=1, keepdims=True)
    q[5::7] = np.array([0.0, 0.0, 0.0, 1.0])
    q[6::7] = np.array([1.0, 0.0, 0.0, 0.0])  # half a turn from the one before
    t = np.cumsum(rng.integers(500_000, 1_500_000, n)).astype(np.int64)
    ep = Episode("e", {"q": Stream("q", t, q, list("xyzw"), mode="slerp")})
    # a rate well above the clock's (several targets per pair), from before its first sample to
    # after its last, plus its own stamps (exact hits)
    x = np.unique(np.concatenate([np.arange(t[0] - 5_000_000, t[-1] + 5_000_000, 97_003), t]))
    ref = Stream("ref", x, np.zeros((len(x), 1)), ["z"])
    ep.streams["ref"] = ref
    args = dict(streams=["q"], dtype=dtype, max_gap=None)
    got = align(ep, "ref", **args)
    with monkeypatch.context() as m:
        kernel_path(m)
        want = align(ep, "ref", **args)
    assert np.array_equal(got.mask, want.mask)
    assert _bits_equal(got.values, want.values)


def test_native_resampling_with_slerp_in_parts_gives_the_same_bits():
    """Slerp beside the other modes, the targets shared out in parts: the bits of one pass."""
    from robocache._native import _robocache

    rng = np.random.default_rng(4)
    c = repair(faulty_clock(rng, 700, 1_000_000))
    rows = int(c.index.max()) + 1
    q = rng.normal(size=(rows, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    values = [q, rng.normal(size=(rows, 3)), np.cumsum(rng.normal(0, 2.0, (rows, 2)), axis=0)]
    clocks = [(c.times_ns, c.index, values, [4, 0, 3], [0, 4, 7])]
    x = np.sort(rng.integers(-5_000_000, 800_000_000, 3000)).astype(np.int64)
    for dtype in (np.float32, np.float64):
        one = np.zeros((1, len(x), 9), dtype)
        _robocache.io_resample_into(clocks, int(c.times_ns[0]), x, one, 0)
        for parts in (2, 5):
            split = np.zeros_like(one)
            for part in range(parts):
                _robocache.io_resample_into(clocks, int(c.times_ns[0]), x, split, 0, part, parts)
            assert _bits_equal(split, one)


def test_native_wrapped_angles_out_of_the_fast_range_are_the_kernels_bits(monkeypatch):
    """Wrapped angles whose blend is 2^50 or more, or NaN, leave the vectorised remainder for
    std::fmod; with the others beside them (which stay on the fast path) they give the kernel's bits."""
    rng = np.random.default_rng(8)
    n = 300
    t = np.cumsum(rng.integers(500_000, 1_500_000, n)).astype(np.int64)
    v = np.cumsum(rng.uniform(-1, 1, (n, 3)), axis=0)
    v[:, 1] += 3e16  # 2^50 and beyond, from the first row on (so never unwrapped back)
    v[n // 2:, 2] = np.nan  # NaN from the middle on
    ep = Episode("e", {"a": Stream("a", t, v, ["p", "q", "r"], mode="wrapped")})
    for dtype in ("f32", "f64"):
        got = align(ep, 1234.0, dtype=dtype, max_gap=None)
        with monkeypatch.context() as m:
            kernel_path(m)
            want = align(ep, 1234.0, dtype=dtype, max_gap=None)
        assert np.isnan(got.values[0, -1, 2]) and abs(got.values[0, 5, 1]) <= np.pi
        assert _bits_equal(got.values, want.values)

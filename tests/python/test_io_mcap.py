"""robocache.io on real ROS 2 bags: MCAP files written with mcap-ros2-support (CDR messages,
jittered clocks, a gap, dropped, duplicated and out-of-order messages), read back through
read_mcap and aligned, against an independent float64 reference (io_reference.py)."""

import numpy as np
import pytest

pytest.importorskip("mcap_ros2", reason="robocache.io's MCAP tests need the io extra")

import robocache.io as rio  # noqa: E402
from io_reference import assert_close, rate_targets, stream_reference  # noqa: E402
from robocache.io.synthetic import JOINTS, Faults, write_ros2_mcap  # noqa: E402

pytestmark = pytest.mark.cpu_backend

FAULTS = Faults(jitter=0.15, drop=0.05, gap_s=0.25, duplicate=0.03, out_of_order=0.03)


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    path = tmp_path_factory.mktemp("bag") / "robot.mcap"
    written = write_ros2_mcap(path, seconds=1.5, seed=3, faults=FAULTS)
    return path, written


@pytest.fixture(scope="module")
def episode(bag):
    return rio.read_mcap(bag[0])


def test_reader_gives_every_message_as_recorded(bag, episode):
    _, written = bag
    for topic, w in written.items():
        for field, values in w.fields.items():
            s = episode[f"{topic}.{field}"]
            assert np.array_equal(s.times_ns, w.stamps_ns), topic  # header stamps, recorded order, int64 ns
            assert np.array_equal(s.values, values), (topic, field)
            assert s.source == topic
    assert episode["/joint_states.position"].channels == JOINTS
    assert episode["/imu.orientation"].mode == "slerp" and episode["/camera/image/compressed.frame"].mode == "nearest"


def test_log_clock_is_the_recorders_and_never_goes_back(bag):
    log = rio.read_mcap(bag[0], topics=["/wrench"], clock="log")
    assert list(log.streams) == ["/wrench.force", "/wrench.torque"]
    t = log["/wrench.force"].times_ns
    assert np.all(np.diff(t) >= 0)
    assert np.all(t > bag[1]["/wrench"].stamps_ns)  # logged after the sensor stamped it


def test_unknown_topic_names_the_topic_and_what_the_file_has(bag):
    with pytest.raises(rio.LogReadError, match="no topic '/lidar'.*/joint_states"):
        rio.read_mcap(bag[0], topics=["/lidar"])


def test_repair_counts_the_faults_the_writer_put_in(bag, episode):
    batch = rio.align(episode, 40.0)
    for topic, w in bag[1].items():
        t = w.stamps_ns
        dups = len(t) - len(np.unique(t))
        late = int(np.sum(t[1:] < np.maximum.accumulate(t)[:-1]))
        rep = next(r for r in batch.reports if r.source == topic)
        assert (rep.duplicates, rep.out_of_order) == (dups, late), topic
        assert dups > 0 and late > 0 and rep.gaps >= 1


@pytest.mark.parametrize("reference", [40.0, "/ee_pose.position"])
def test_align_matches_the_independent_reference(episode, reference):
    modes = {"/joint_states.position": "wrapped", "/imu.angular_velocity": "previous"}
    batch = rio.align(episode, reference, modes=modes, tolerance=0.02)
    first = min(int(s.times_ns.min()) for s in episode.streams.values())
    last = max(int(s.times_ns.max()) for s in episode.streams.values())
    if isinstance(reference, str):
        targets = sorted(set(int(x) for x in episode[reference].times_ns))
    else:
        targets = rate_targets(first, last, reference)
    assert batch.lengths.tolist() == [len(targets)] and batch.start_ns.tolist() == [first]
    assert np.array_equal(batch.times[0], (np.array(targets) - first) / 1e9)
    for i, name in enumerate(batch.streams):
        s, mode = episode[name], batch.modes[name]
        want, valid = stream_reference(s.times_ns, s.values, targets, mode, tolerance_ns=20_000_000)
        assert np.array_equal(batch.mask[0, :, i], valid), name
        got = batch.stream(name)[0]
        if mode in ("previous", "nearest"):
            assert np.array_equal(got, want.astype(np.float32)), name
        else:
            assert_close(got, want, name)
    assert batch.mask[0].mean() < 0.95 and batch.mask[0].any(axis=0).all()  # some masked, no stream all masked


def test_strict_raises_naming_the_stream_and_the_stamp(episode):
    with pytest.raises(ValueError, match=r"stream '/camera/image/compressed.frame': sample \d+ .*\d+ ns"):
        rio.align(episode, 40.0, streams=["/camera/image/compressed.frame"], strict=True)


def test_targets_inside_a_gap_are_masked_and_none_outside_it(bag, episode):
    batch = rio.align(episode, 200.0, streams=["/wrench.force"], max_gap=0.1)
    t = np.sort(np.unique(bag[1]["/wrench"].stamps_ns))
    j = int(np.argmax(np.diff(t)))
    inside = (batch.times[0] * 1e9 + batch.start_ns[0] > t[j]) & (batch.times[0] * 1e9 + batch.start_ns[0] < t[j + 1])
    assert inside.sum() > 10
    assert not batch.mask[0, inside, 0].any()
    assert batch.reports[0].masked_by["gap"] == inside.sum()

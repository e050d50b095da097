"""robocache.io on LeRobot v3 datasets written with pyarrow (parquet) and PyAV (mp4): the reader
gives the rows' values and stamps, and the camera frames' times from the video container (jittered,
dropped), not frame_index / fps; aligned against the independent float64 reference."""

import json

import numpy as np
import pytest

pytest.importorskip("pyarrow", reason="robocache.io's LeRobot tests need the io extra")
pytest.importorskip("av", reason="robocache.io's LeRobot tests need the io extra")

import robocache.io as rio  # noqa: E402
from io_reference import assert_close, stream_reference  # noqa: E402
from robocache.io.synthetic import JOINTS, write_lerobot  # noqa: E402

pytestmark = pytest.mark.cpu_backend
CAM = "observation.images.front"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("lerobot") / "arm"
    return root, write_lerobot(root, episodes=3, seconds=1.0, fps=30, seed=5)


def test_reader_gives_rows_and_container_frame_times(dataset):
    root, written = dataset
    episodes = rio.read_lerobot(root)
    assert [e.name for e in episodes] == ["episode_0", "episode_1", "episode_2"]
    for ep, (e, w) in zip(episodes, written.items()):
        state = ep["observation.state"]
        assert state.channels == JOINTS
        assert np.array_equal(state.values, w.features["observation.state"].astype(np.float64))
        assert np.array_equal(state.times_ns, np.round(w.timestamps.astype(np.float64) * 1e9).astype(np.int64))
        cam = ep[CAM]
        assert cam.mode == "nearest" and cam.channels == ["frame"]
        assert np.allclose(cam.times_ns / 1e9, w.camera_times_s[CAM], rtol=0, atol=1e-9)  # to the nanosecond
        assert np.array_equal(cam.values[:, 0], np.arange(len(cam)))
    frames = [len(e[CAM]) for e in episodes]
    rows = [len(e["observation.state"]) for e in episodes]
    assert frames != rows  # dropped frames: index / fps would have been wrong


def test_reader_picks_episodes_and_features(dataset):
    (ep,) = rio.read_lerobot(dataset[0], episodes=[2], features=["action"])
    assert ep.name == "episode_2" and list(ep.streams) == ["action"]


def test_align_onto_the_dataset_rows_matches_the_reference(dataset):
    episodes = rio.read_lerobot(dataset[0])
    batch = rio.align(episodes, "observation.state", tolerance=0.01)
    assert batch.values.shape == (3, max(batch.lengths), 6 + 6 + 1)
    assert batch.lengths.tolist() == [len(e["observation.state"]) for e in episodes]
    for b, ep in enumerate(episodes):
        n = batch.lengths[b]
        targets = np.unique(ep["observation.state"].times_ns)
        for i, name in enumerate(batch.streams):
            s = ep[name]
            want, valid = stream_reference(s.times_ns, s.values, targets, s.mode, tolerance_ns=10_000_000)
            assert np.array_equal(batch.mask[b, :n, i], valid), (b, name)
            got = batch.stream(name)[b, :n]
            if s.mode == "nearest":
                assert np.array_equal(got, want.astype(np.float32)), (b, name)
            else:
                assert_close(got, want, name)
        assert not batch.mask[b, n:].any() and not batch.values[b, n:].any()  # padded targets: masked zeros


def test_missing_unsupported_and_corrupt_datasets_raise_log_read_errors(dataset, tmp_path):
    with pytest.raises(rio.LogReadError, match="no such file"):
        rio.read_lerobot(tmp_path / "nowhere")
    old = tmp_path / "old"
    (old / "meta").mkdir(parents=True)
    (old / "meta" / "info.json").write_text(json.dumps({"codebase_version": "v2.1", "fps": 30}))
    with pytest.raises(rio.LogReadError, match="v2.1 is not supported"):
        rio.read_lerobot(old)
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(dataset[0], broken)
    data = broken / "data" / "chunk-000" / "file-000.parquet"
    data.write_bytes(data.read_bytes()[:200])
    with pytest.raises(rio.LogReadError, match="cannot read the dataset"):
        rio.read_lerobot(broken)


def test_groups_of_episodes_per_kernel_call_give_the_same_batch(dataset):
    episodes = rio.read_lerobot(dataset[0])
    whole = rio.align(episodes, 50.0)
    split = rio.align(episodes, 50.0, episodes_per_call=2)
    assert np.array_equal(whole.values, split.values) and np.array_equal(whole.mask, split.mask)

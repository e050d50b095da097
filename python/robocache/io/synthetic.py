"""Small but real robot logs for tests, the demo, the docs and the benchmark, written with the
formats' own writers: ROS 2 messages (CDR) into MCAP with mcap-ros2-support, and LeRobot v3
datasets with pyarrow (parquet) and PyAV (mp4 video).

Each writer can put the faults real logs have into the clocks: jitter, dropped messages and
whole gaps, duplicated messages, and messages recorded out of order. It returns what it wrote
(per topic: header stamps in recorded order and the values), so a test can check the readers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from ._deps import require
from .ros2_msgdefs import schema_text

EPOCH_NS = 1_700_000_000 * 1_000_000_000  # robot logs carry epoch times
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow", "wrist_1", "wrist_2", "wrist_roll"]  # wrist_roll: continuous

#: topic -> (ROS 2 type, default rate in Hz): a manipulator's six topics
TOPICS = {
    "/joint_states": ("sensor_msgs/msg/JointState", 200.0),
    "/imu": ("sensor_msgs/msg/Imu", 100.0),
    "/wrench": ("geometry_msgs/msg/WrenchStamped", 500.0),
    "/ee_pose": ("geometry_msgs/msg/PoseStamped", 50.0),
    "/camera/image/compressed": ("sensor_msgs/msg/CompressedImage", 30.0),
    "/points": ("sensor_msgs/msg/PointCloud2", 10.0),
}


@dataclass
class Faults:
    """Clock faults to put into a log (fractions are of each topic's messages)."""

    jitter: float = 0.1  # standard deviation of a stamp's error, as a fraction of the period
    drop: float = 0.0  # messages dropped at random
    gap_s: float = 0.0  # one gap of this length in every topic (0: none)
    duplicate: float = 0.0  # messages recorded twice (same stamp, same values)
    out_of_order: float = 0.0  # adjacent pairs recorded in swapped order


def _quat(angle: np.ndarray, axis) -> np.ndarray:
    axis = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    h = angle[:, None] / 2
    return np.concatenate([np.sin(h) * axis, np.cos(h)], axis=1)  # x, y, z, w


def signals(topic: str, t: np.ndarray, seed: int) -> Dict[str, np.ndarray]:
    """The values of a topic's fields at times t (seconds): smooth, distinct per robot (seed)."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.2, 1.0, 8)
    ph = rng.uniform(0, 2 * np.pi, 8)
    if topic == "/joint_states":
        pos = 0.8 * np.sin(2 * np.pi * f[:6] * t[:, None] + ph[:6])
        pos[:, 5] = (3.0 * t + ph[5] + np.pi) % (2 * np.pi) - np.pi  # a continuous joint spinning at 3 rad/s
        vel = 0.8 * 2 * np.pi * f[:6] * np.cos(2 * np.pi * f[:6] * t[:, None] + ph[:6])
        vel[:, 5] = 3.0
        return {"position": pos, "velocity": vel, "effort": np.cos(t[:, None] + ph[:6])}
    if topic == "/imu":
        return {"orientation": _quat(0.7 * t + ph[0], [0.3, 0.2, 1.0]),
                "angular_velocity": np.stack([np.sin(f[1] * t), np.cos(f[2] * t), 0.7 + 0 * t], 1),
                "linear_acceleration": np.stack([np.sin(f[3] * t), np.cos(f[4] * t), 9.81 + 0.1 * np.sin(t)], 1)}
    if topic == "/wrench":
        return {"force": np.stack([np.sin(2 * np.pi * f[i] * t + ph[i]) * 10 for i in range(3)], 1),
                "torque": np.stack([np.cos(2 * np.pi * f[i] * t + ph[i]) for i in range(3, 6)], 1)}
    if topic == "/ee_pose":
        return {"position": np.stack([0.4 + 0.1 * np.cos(f[0] * t), 0.1 * np.sin(f[0] * t), 0.3 + 0 * t], 1),
                "orientation": _quat(-1.3 * t + ph[1], [1.0, -0.5, 0.2])}
    return {}


def _stamps(rate: float, seconds: float, faults: Faults, rng) -> np.ndarray:
    """Header stamps (ns from the log start) of one topic, before duplication and reordering."""
    period = 1e9 / rate
    n = int(seconds * rate)
    t = np.arange(n) * period + rng.normal(0, faults.jitter * period, n)
    keep = rng.random(n) >= faults.drop
    if faults.gap_s > 0:
        g0 = rng.uniform(0.3, 0.6) * seconds
        keep &= ~((t > g0 * 1e9) & (t < (g0 + faults.gap_s) * 1e9))
    t = np.sort(t[keep])  # jitter never reorders a real sensor's own stamps; out_of_order does
    return np.round(t + period).astype(np.int64)  # strictly after the start


def _recorded_order(n: int, faults: Faults, rng) -> np.ndarray:
    """Indices of the messages in the order they are recorded: duplicates repeat an index,
    out-of-order pairs are swapped."""
    order = list(range(n))
    if faults.out_of_order > 0 and n > 4:
        for i in rng.choice(np.arange(1, n - 2), size=max(1, int(faults.out_of_order * n)), replace=False):
            order[i], order[i + 1] = order[i + 1], order[i]
    if faults.duplicate > 0 and n > 2:
        dup = set(rng.choice(n, size=max(1, int(faults.duplicate * n)), replace=False).tolist())
        order = [j for i in order for j in ([i, i] if i in dup else [i])]
    return np.asarray(order, np.int64)


def _message(topic: str, stamp_ns: int, values: Dict[str, np.ndarray], k: int, frame: int) -> dict:
    sec, nsec = divmod(int(stamp_ns), 1_000_000_000)
    header = {"stamp": {"sec": sec, "nanosec": nsec}, "frame_id": "base_link"}
    vec = lambda v: {"x": float(v[0]), "y": float(v[1]), "z": float(v[2])}  # noqa: E731
    quat = lambda q: {"x": float(q[0]), "y": float(q[1]), "z": float(q[2]), "w": float(q[3])}  # noqa: E731
    if topic == "/joint_states":
        return {"header": header, "name": JOINTS, "position": values["position"][k].tolist(),
                "velocity": values["velocity"][k].tolist(), "effort": values["effort"][k].tolist()}
    if topic == "/imu":
        return {"header": header, "orientation": quat(values["orientation"][k]), "orientation_covariance": [0.0] * 9,
                "angular_velocity": vec(values["angular_velocity"][k]), "angular_velocity_covariance": [0.0] * 9,
                "linear_acceleration": vec(values["linear_acceleration"][k]),
                "linear_acceleration_covariance": [0.0] * 9}
    if topic == "/wrench":
        return {"header": header, "wrench": {"force": vec(values["force"][k]), "torque": vec(values["torque"][k])}}
    if topic == "/ee_pose":
        return {"header": header, "pose": {"position": vec(values["position"][k]),
                                           "orientation": quat(values["orientation"][k])}}
    if topic == "/camera/image/compressed":
        return {"header": header, "format": "jpeg", "data": bytes([frame % 256]) * 64}
    if topic == "/points":
        pts = np.full((16, 3), frame, np.float32)
        fields = [{"name": c, "offset": 4 * i, "datatype": 7, "count": 1} for i, c in enumerate("xyz")]
        return {"header": header, "height": 1, "width": 16, "fields": fields, "is_bigendian": False,
                "point_step": 12, "row_step": 192, "data": pts.tobytes(), "is_dense": True}
    raise ValueError(f"argument 'topic': no generator for {topic!r}")


@dataclass
class WrittenTopic:
    """What a writer wrote for one topic: header stamps (int64 ns, recorded order) and, per field,
    the values of each recorded message (frames: the index of the message in the topic)."""

    stamps_ns: np.ndarray
    fields: Dict[str, np.ndarray]


def write_ros2_mcap(path, seconds: float = 2.0, seed: int = 0, faults: Optional[Faults] = None,
                    rates: Optional[Dict[str, float]] = None, start_ns: int = EPOCH_NS) -> Dict[str, WrittenTopic]:
    """Writes a ROS 2 bag (MCAP, CDR messages) of a manipulator's topics (TOPICS; `rates` picks
    topics and rates). Messages are written in the order the recorder got them: by log time, which
    is the stamp plus a transport delay (out-of-order pairs keep the log order and swap stamps)."""
    writer_mod = require("mcap_ros2.writer", "writing ROS 2 MCAP files")
    faults = faults or Faults()
    rng = np.random.default_rng(seed)
    rates = rates or {t: r for t, (_, r) in TOPICS.items()}
    written: Dict[str, WrittenTopic] = {}
    events = []  # (log_ns, topic, stamp_ns, message index, frame index)
    for topic, rate in rates.items():
        stamps = _stamps(rate, seconds, faults, rng)
        order = _recorded_order(len(stamps), faults, rng)
        rec = stamps[order]  # message j of the topic is sample order[j]
        fields = signals(topic, rec / 1e9, seed)
        if not fields:  # frames: the reader gives each message's index in the topic
            frames = np.arange(len(rec), dtype=np.float64)[:, None]
            fields = {"frame": np.concatenate([frames, np.full_like(frames, 16)], 1) if topic == "/points" else frames}
        written[topic] = WrittenTopic(start_ns + rec, fields)
        # the recorder gets message j after its stamp and after message j-1 (log times never go back)
        log = np.maximum.accumulate(np.maximum.accumulate(rec) + rng.integers(500_000, 2_000_000, len(rec)))
        for j in range(len(rec)):
            events.append((int(start_ns + log[j]), topic, int(start_ns + rec[j]), j))
    events.sort(key=lambda e: e[0])
    with open(path, "wb") as f, writer_mod.Writer(f) as w:
        schemas = {t: w.register_msgdef(TOPICS[t][0], schema_text(TOPICS[t][0])) for t in rates}
        values = {t: signals(t, (written[t].stamps_ns - start_ns) / 1e9, seed) for t in rates}
        for log_ns, topic, stamp, j in events:
            w.write_message(topic, schemas[topic], _message(topic, stamp, values[topic], j, j),
                            log_time=log_ns, publish_time=log_ns)
    return written


def _write_video(path: Path, times_s: np.ndarray, fps: int, seed: int) -> None:
    """An mp4 (MPEG-4 part 2, 16x16) whose frames have the presentation times `times_s`."""
    av = require("av", "writing LeRobot videos")
    tb = Fraction(1, 1000 * fps)  # 1000 ticks a frame: room for jitter, within MPEG-4's limit
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        stream.time_base = tb
        stream.codec_context.time_base = tb
        img = np.zeros((16, 16, 3), np.uint8)
        for k, t in enumerate(times_s):
            img[...] = (seed * 37 + k * 5) % 256
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = int(round(t / tb))
            frame.time_base = tb
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


@dataclass
class WrittenEpisode:
    """What write_lerobot wrote for one episode: the rows' values per feature, and per camera the
    frame times (seconds from the episode start, as stored in the video container)."""

    features: Dict[str, np.ndarray]
    timestamps: np.ndarray
    camera_times_s: Dict[str, np.ndarray]


def write_lerobot(root, episodes: int = 3, seconds: float = 2.0, fps: int = 30, seed: int = 0,
                  cameras=("observation.images.front",), camera_faults: Optional[Faults] = None) -> Dict[int, WrittenEpisode]:
    """Writes a LeRobot v3 dataset: meta/info.json, meta/episodes/... (the episode index), one data
    parquet file and one mp4 per camera holding every episode one after another. Frames in the
    videos have real (jittered, dropped) times, unlike the rows' frame_index / fps stamps."""
    pa = require("pyarrow", "writing LeRobot datasets")
    pq = require("pyarrow.parquet", "writing LeRobot datasets")
    root = Path(root)
    faults = camera_faults or Faults(jitter=0.1, drop=0.05)
    rng = np.random.default_rng(seed)
    names = JOINTS
    rows = {k: [] for k in ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index",
                            "task_index")}
    meta = []
    written: Dict[int, WrittenEpisode] = {}
    video_times = {c: [] for c in cameras}
    offset = {c: 0.0 for c in cameras}
    index = 0
    for e in range(episodes):
        n = int(round(seconds * fps)) + e  # episodes of different lengths
        ts = (np.arange(n) / fps).astype(np.float32)
        state = signals("/joint_states", ts.astype(np.float64), seed + e)["position"].astype(np.float32)
        action = np.roll(state, -1, axis=0)
        rows["observation.state"] += state.tolist()
        rows["action"] += action.tolist()
        rows["timestamp"] += ts.tolist()
        rows["frame_index"] += list(range(n))
        rows["episode_index"] += [e] * n
        rows["index"] += list(range(index, index + n))
        rows["task_index"] += [0] * n
        entry = {"episode_index": e, "tasks": ["pick the cube"], "length": n, "data/chunk_index": 0,
                 "data/file_index": 0, "dataset_from_index": index, "dataset_to_index": index + n}
        cams = {}
        for c in cameras:
            stamps = _stamps(fps, n / fps, faults, rng) / 1e9 - 1.0 / fps  # first frame near 0
            stamps = stamps[(stamps >= 0) & (stamps < n / fps)]
            stamps = np.round(stamps * 1000 * fps) / (1000 * fps)  # whole ticks of the container's clock
            if e == 0:
                stamps[0] = 0.0  # an mp4 file's clock starts at its first frame (muxers shift it there)
            cams[c] = stamps
            video_times[c].append(offset[c] + stamps)
            entry.update({f"videos/{c}/chunk_index": 0, f"videos/{c}/file_index": 0,
                          f"videos/{c}/from_timestamp": offset[c], f"videos/{c}/to_timestamp": offset[c] + n / fps})
            offset[c] += n / fps
        meta.append(entry)
        written[e] = WrittenEpisode({"observation.state": state, "action": action}, ts, cams)
        index += n
    vec = pa.list_(pa.float32(), len(names))
    table = pa.table({"observation.state": pa.array(rows["observation.state"], vec),
                      "action": pa.array(rows["action"], vec),
                      "timestamp": pa.array(rows["timestamp"], pa.float32()),
                      **{k: pa.array(rows[k], pa.int64()) for k in ("frame_index", "episode_index", "index",
                                                                     "task_index")}})
    (root / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data" / "chunk-000" / "file-000.parquet")
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(meta), root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.table({"task_index": [0], "task": ["pick the cube"]}), root / "meta" / "tasks.parquet")
    for c in cameras:
        _write_video(root / "videos" / c / "chunk-000" / "file-000.mp4", np.concatenate(video_times[c]), fps, seed)
    features = {
        "observation.state": {"dtype": "float32", "shape": [len(names)], "names": names},
        "action": {"dtype": "float32", "shape": [len(names)], "names": names},
        **{c: {"dtype": "video", "shape": [16, 16, 3], "names": ["height", "width", "channels"],
               "info": {"video.fps": fps, "video.codec": "mpeg4", "video.pix_fmt": "yuv420p"}} for c in cameras},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        **{k: {"dtype": "int64", "shape": [1], "names": None} for k in ("frame_index", "episode_index", "index",
                                                                         "task_index")},
    }
    info = {"codebase_version": "v3.0", "robot_type": "synthetic_arm", "total_episodes": episodes,
            "total_frames": index, "total_tasks": 1, "chunks_size": 1000, "data_files_size_in_mb": 100,
            "video_files_size_in_mb": 500, "fps": fps, "splits": {"train": f"0:{episodes}"},
            "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
            "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
            "features": features}
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    return written

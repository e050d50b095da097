"""ROS 2 bags in MCAP: chosen topics of the message types in ros2_fields.py into an Episode,
decoded by the ecosystem's own libraries (mcap, mcap-ros2-support)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import numpy as np

from ._deps import require
from .ros2_fields import EXTRACT, FIELDS, normalise
from .streams import Episode, LogReadError, Stream

CLOCKS = ("header", "log", "publish")


class _Topic:
    """What is collected for one topic while reading."""

    def __init__(self, topic: str, datatype: str):
        self.topic, self.datatype = topic, datatype
        self.stamps: List[int] = []
        self.rows: List[list] = []
        self.joint_names: Optional[List[str]] = None

    def add(self, stamp: int, msg) -> None:
        if self.datatype == "sensor_msgs/msg/JointState":
            if self.joint_names is None:
                self.joint_names = list(msg.name)
            elif list(msg.name) != self.joint_names:  # another order (or other joints): by name
                self.rows.append(self._reordered(msg))
                self.stamps.append(stamp)
                return
        self.rows.append(EXTRACT[self.datatype](msg, len(self.stamps)))
        self.stamps.append(stamp)

    def _reordered(self, msg) -> list:
        where = {n: i for i, n in enumerate(msg.name)}
        out = []
        for seq in (msg.position, msg.velocity, msg.effort):
            out.append([seq[where[n]] if n in where and where[n] < len(seq) else np.nan for n in self.joint_names])
        return out

    def streams(self) -> List[Stream]:
        times = np.asarray(self.stamps, dtype=np.int64)  # shared by the topic's streams: one clock
        out = []
        for k, (field, channels, mode) in enumerate(FIELDS[self.datatype]):
            if self.joint_names is not None:
                channels = self.joint_names
                width = len(channels)
                if not self.rows or len(self.rows[0][k]) != width:
                    continue  # a JointState field the robot does not publish (often velocity, effort)
                vals = np.array([r[k] if len(r[k]) == width else [np.nan] * width for r in self.rows], np.float64)
            else:
                vals = np.array([r[k] for r in self.rows], np.float64).reshape(len(self.rows), len(channels))
            out.append(Stream(f"{self.topic}.{field}", times, vals, list(channels), mode, self.topic))
        return out


def mcap_topics(path) -> Dict[str, str]:
    """The topics of an MCAP file and their message types."""
    reader_mod = require("mcap.reader", "reading MCAP files")
    path = _existing(path)
    try:
        with open(path, "rb") as f:
            summary = reader_mod.make_reader(f).get_summary()
            if summary is None:
                raise LogReadError(f"{path}: the MCAP file has no summary section (was it closed properly?)")
            return {c.topic: summary.schemas[c.schema_id].name for c in summary.channels.values()
                    if c.schema_id in summary.schemas}
    except LogReadError:
        raise
    except Exception as e:  # the mcap library's own errors for truncated or foreign files
        raise LogReadError(f"{path}: not a readable MCAP file ({type(e).__name__}: {e})") from None


def _existing(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise LogReadError(f"{path}: no such file")
    if not path.is_file():
        raise LogReadError(f"{path}: not a file")
    return path


def read_mcap(path, topics: Optional[Iterable[str]] = None, clock: str = "header", name: Optional[str] = None,
              progress: Optional[Callable[[int, int], None]] = None) -> Episode:
    """Reads a ROS 2 bag (MCAP) into an Episode with one stream per topic and field.

    topics: the topics to read (default: every topic of a supported type). clock: "header" (the
    message's header stamp, the sensor's time) or "log" / "publish" (when the recorder got it).
    progress: called as progress(messages_done, messages_total) while reading.
    Raises LogReadError for a missing or unreadable file or a topic it does not have.
    """
    if clock not in CLOCKS:
        raise ValueError(f"argument 'clock': expected one of {', '.join(CLOCKS)}, got {clock!r}")
    reader_mod = require("mcap.reader", "reading MCAP files")
    decoder_mod = require("mcap_ros2.decoder", "decoding ROS 2 messages")
    path = _existing(path)
    available = {t: normalise(d) for t, d in mcap_topics(path).items()}
    supported = {t: d for t, d in available.items() if d in EXTRACT}
    if topics is None:
        wanted = sorted(supported)
    else:
        wanted = list(topics)
        for t in wanted:
            if t not in available:
                raise LogReadError(f"{path}: no topic '{t}'; it has: {', '.join(sorted(available)) or 'none'}")
            if t not in supported:
                raise LogReadError(f"{path}: topic '{t}' has type {available[t]}, which robocache.io does not read "
                                   f"(it reads {', '.join(sorted(EXTRACT))})")
    acc = {t: _Topic(t, supported[t]) for t in wanted}
    try:
        with open(path, "rb") as f:
            reader = reader_mod.make_reader(f, decoder_factories=[decoder_mod.DecoderFactory()])
            stats = reader.get_summary().statistics
            counts = stats.channel_message_counts if stats else {}
            ids = {c.id for c in reader.get_summary().channels.values() if c.topic in acc}
            total = sum(counts.get(i, 0) for i in ids)
            done = 0
            for _, channel, message, msg in reader.iter_decoded_messages(topics=wanted, log_time_order=False):
                if clock == "header":
                    stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                else:
                    stamp = message.log_time if clock == "log" else message.publish_time
                acc[channel.topic].add(stamp, msg)
                done += 1
                if progress is not None and done % 4096 == 0:
                    progress(done, total)
            if progress is not None:
                progress(done, total)
    except LogReadError:
        raise
    except Exception as e:  # truncated chunks, bad CRCs, undecodable CDR: the libraries' own errors
        raise LogReadError(f"{path}: not a readable MCAP file ({type(e).__name__}: {e})") from None
    episode = Episode(name or path.stem, source=str(path))
    for t in wanted:
        for s in acc[t].streams():
            episode.streams[s.name] = s
    return episode

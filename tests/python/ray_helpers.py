"""Shared by the robocache.ray tests: small episode files, a child process that installs fleet
kernels, and a bundle rewriter that forges entries built "elsewhere" (another compiler, GPU arch)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

RATES = {"/joint_states": 200.0, "/wrench": 500.0, "/ee_pose": 50.0, "/imu": 100.0}
# where the synthetic arm's end effector moves (robocache.io.synthetic.signals): x 0.35..0.5, y 0..0.1, z 0.3
VOXEL = dict(points="/ee_pose.position", grid_min=(0.3, -0.05, 0.25), voxel_size=0.02, grid_shape=(10, 10, 5),
             mode="mean", features=("/wrench.force",))
MAP_ARGS = dict(reference=30.0, voxel=VOXEL)


def write_episodes(folder: Path, n: int) -> list:
    """n short MCAP bags with faulty clocks, of different lengths."""
    from robocache.io.synthetic import Faults, write_ros2_mcap

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"episode_{i:03d}.mcap"
        write_ros2_mcap(p, seconds=0.6 + 0.15 * i, seed=100 + i, rates=RATES,
                        faults=Faults(jitter=0.1, drop=0.02, duplicate=0.01))
        paths.append(p)
    return paths


def child_env(**extra) -> dict:
    env = dict(os.environ)
    for k in ("ROBOCACHE_CACHE_MODE", "ROBOCACHE_CACHE_BUNDLES", "ROBOCACHE_NUM_THREADS"):
        env.pop(k, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(code: str, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          env=child_env(**env), timeout=300)


# --- forging bundle entries ----------------------------------------------------------------------
# Formats: cache/bundle.h ("RCBUNDLE" | u32 version | u32 count | per entry: 64-byte key, u64 offset,
# u64 length | entries) and cache/cache_entry.h ("RCKENTRY" | u32 version | u32 header length |
# SHA-256 of header+binary | header JSON | binary).

def read_bundle(data: bytes) -> dict:
    assert data[:8] == b"RCBUNDLE"
    (count,) = struct.unpack_from("<I", data, 12)
    out = {}
    for i in range(count):
        at = 16 + i * 80
        key = data[at:at + 64].decode()
        off, length = struct.unpack_from("<QQ", data, at + 64)
        out[key] = data[off:off + length]
    return out


def write_bundle(entries: dict) -> bytes:
    items = sorted(entries.items())
    head = b"RCBUNDLE" + struct.pack("<II", 1, len(items))
    offset = len(head) + 80 * len(items)
    index, body = b"", b""
    for key, raw in items:
        index += key.encode() + struct.pack("<QQ", offset, len(raw))
        offset += len(raw)
        body += raw
    return head + index + body


def forge_entry(raw: bytes, change) -> tuple:
    """(new key, entry) for `raw` with its header changed by change(header dict), under another key
    (as another compiler or arch would have keyed it), with a valid checksum."""
    version, hlen = struct.unpack_from("<II", raw, 8)
    header = json.loads(raw[48:48 + hlen])
    binary = raw[48 + hlen:]
    change(header)
    key = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
    header["key"] = key
    text = json.dumps(header).encode()
    return key, b"RCKENTRY" + struct.pack("<II", version, len(text)) + hashlib.sha256(text + binary).digest() + text + binary

"""Regression tests for issue 14: each pins one behaviour a hostile or careless user broke at 253fa01.

Every test is named for the promise it holds; docs/reliability.md lists them with the guarantee
each pins, and docs/reliability-regressions/ keeps the run that showed each failing on 253fa01.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cache_helpers import cheap_target, child_env, run_child, run_cli

import robocache

TARGET = cheap_target()
CPU = robocache.check_installation()["cpu"]["available"]
needs_cpu = pytest.mark.skipif(not CPU, reason="needs the CPU backend")
OTHER_UID = 65534  # CI runs as root, so chown stands in for another user's files


def can_chown() -> bool:
    return os.geteuid() == 0


needs_root = pytest.mark.skipif(not can_chown(), reason="needs root to chown a file to another user")

SPEC = {"op": "resample", "dtype": "f32", "time_dtype": "f64", "dim": 3}


def no_traceback(out):
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.count("\n") <= 3, out.stderr


def entry_files(cache_dir: Path):
    return sorted(p for p in cache_dir.rglob("*.rck"))


def warm(cache_dir: Path, specs=(SPEC,)):
    """Compiles specs into cache_dir in a child process; returns their keys."""
    return run_child(list(specs), TARGET, cache_dir)["keys"]


# ------------------------------------------------------------------ bundle files (items 1)

def forge_entry(entry: bytes, key: str) -> bytes:
    """The entry re-keyed to `key` with its checksum recomputed, as a forger would."""
    header_len = struct.unpack_from("<I", entry, 12)[0]
    header = json.loads(entry[48:48 + header_len])
    binary = entry[48 + header_len:]
    header["key"] = key
    new_header = json.dumps(header).encode()
    digest = hashlib.sha256(new_header + binary).digest()
    return entry[:8] + struct.pack("<II", struct.unpack_from("<I", entry, 8)[0], len(new_header)) + digest + \
        new_header + binary


def bundle_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    """A bundle file in the documented layout (cache/bundle.h), keys written unchecked."""
    out = b"RCBUNDLE" + struct.pack("<II", 1, len(entries))
    offset = len(out) + 80 * len(entries)
    index, blobs = b"", b""
    for key, blob in entries:
        index += key.encode().ljust(64, b"\0")[:64] + struct.pack("<QQ", offset, len(blob))
        offset += len(blob)
        blobs += blob
    return out + index + blobs


def test_bundle_import_refuses_a_key_that_climbs_out_of_the_cache(tmp_path):
    source = tmp_path / "source"
    warm(source)
    real = entry_files(source)[0].read_bytes()
    evil_key = "./../../../out/"
    evil_key += "A" * (64 - len(evil_key))
    cache = tmp_path / "x" / "y" / "cache"
    landing = Path(os.path.normpath(cache / evil_key[:2] / (evil_key + ".rck")))
    landing.parent.mkdir(parents=True)
    bundle = tmp_path / "evil.rcb"
    bundle.write_bytes(bundle_bytes([(evil_key, forge_entry(real, evil_key))]))
    out = run_cli(["cache", "import", str(bundle)], cache)
    assert not landing.exists(), f"the import wrote {landing}, outside the cache"
    assert out.returncode == 2, out.stdout + out.stderr
    assert "not 64 hex digits" in out.stderr
    no_traceback(out)


def test_loaded_bundle_with_a_malformed_key_is_refused_with_a_warning(tmp_path):
    source = tmp_path / "source"
    warm(source)
    real = entry_files(source)[0].read_bytes()
    bundle = tmp_path / "odd.rcb"
    bundle.write_bytes(bundle_bytes([("../" + "a" * 61, forge_entry(real, "../" + "a" * 61))]))
    r = run_child([SPEC], TARGET, tmp_path / "c", ROBOCACHE_CACHE_BUNDLES=bundle)
    assert not r["errors"]
    assert "odd.rcb" in r["stderr"] and "not 64 hex digits" in r["stderr"], r["stderr"]


def exported_bundle(tmp_path) -> Path:
    source = tmp_path / "source"
    warm(source)
    bundle = tmp_path / "kernels.rcb"
    out = run_cli(["cache", "export", str(bundle)], source)
    assert out.returncode == 0, out.stderr
    return bundle


def test_bundle_writable_by_others_is_refused(tmp_path):
    bundle = exported_bundle(tmp_path)
    os.chmod(bundle, 0o666)
    r = run_child([SPEC], TARGET, tmp_path / "fresh", ROBOCACHE_CACHE_BUNDLES=bundle)
    assert r["stats"]["bundle_hits"] == 0 and r["stats"]["compiles"] == 1, r
    assert "refusing cache bundle" in r["stderr"] and "writable by group or others" in r["stderr"], r["stderr"]


@needs_root
def test_bundle_owned_by_another_user_is_refused(tmp_path):
    bundle = exported_bundle(tmp_path)
    os.chmod(bundle, 0o644)
    os.chown(bundle, OTHER_UID, -1)
    r = run_child([SPEC], TARGET, tmp_path / "fresh", ROBOCACHE_CACHE_BUNDLES=bundle)
    assert r["stats"]["bundle_hits"] == 0, r
    assert f"owned by uid {OTHER_UID}" in r["stderr"], r["stderr"]


def test_private_or_root_owned_read_only_bundle_is_trusted(tmp_path):
    bundle = exported_bundle(tmp_path)
    os.chmod(bundle, 0o444)
    r = run_child([SPEC], TARGET, tmp_path / "fresh", ROBOCACHE_CACHE_BUNDLES=bundle)
    assert r["stats"]["bundle_hits"] == 1 and r["stats"]["compiles"] == 0, r


# ------------------------------------------------------------------ cache clear and gc (item 2)

def user_files(cache: Path) -> list[Path]:
    """Files a user keeps beside the cache, in folders that look like shards."""
    files = [cache / "db" / "results.db", cache / "ab" / "notes.txt", cache / "00" / "data.bin",
             cache / "ab" / "mine.rck", cache / "cd" / ("c" * 64 + ".rck.bak")]
    for f in files:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("user data")
    return files


def test_cache_clear_removes_only_its_own_files_and_counts_its_entries(tmp_path):
    cache = tmp_path / "c"
    warm(cache, [SPEC, {**SPEC, "dim": 4}])
    mine = user_files(cache)
    out = run_cli(["cache", "clear"], cache)
    assert out.returncode == 0, out.stderr
    assert "removed 2 entries" in out.stdout, out.stdout
    assert all(f.read_text() == "user data" for f in mine)
    assert entry_files(cache) == [p for p in mine if p.suffix == ".rck"]


def test_cache_gc_keeps_files_that_are_not_its_own(tmp_path):
    cache = tmp_path / "c"
    warm(cache)
    mine = user_files(cache)
    out = run_cli(["cache", "gc"], cache)
    assert out.returncode == 0, out.stderr
    assert all(f.exists() for f in mine)


# ------------------------------------------------------------------ compile lock (items 3, 8)

def key_of(spec, tmp_path) -> str:
    return warm(tmp_path / "keys", [spec])[0]


def test_lock_wait_is_bounded_and_names_the_holders_pid(tmp_path):
    key = key_of(SPEC, tmp_path)
    cache = tmp_path / "c"
    shard = cache / key[:2]
    shard.mkdir(parents=True)
    os.chmod(cache, 0o700)
    os.chmod(shard, 0o700)
    with open(shard / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a holder that never lets go (stopped, in a debugger)
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            proc = subprocess.run([sys.executable, "-c", "import robocache, sys; "
                                   f"print(robocache.compile({SPEC!r}, {TARGET!r}).key)"],
                                  capture_output=True, text=True, timeout=60,
                                  env=child_env(cache, ROBOCACHE_LOCK_TIMEOUT="0.5"))
        except subprocess.TimeoutExpired:
            pytest.fail("the compile waited on the lock without a limit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == key
    assert f"held by pid {os.getpid()}" in proc.stderr, proc.stderr


def test_lock_timeout_variable_is_validated(tmp_path):
    r = subprocess.run([sys.executable, "-c", f"import robocache; robocache.compile({SPEC!r}, {TARGET!r})"],
                       capture_output=True, text=True, timeout=120,
                       env=child_env(tmp_path / "c", ROBOCACHE_LOCK_TIMEOUT="soon"))
    assert r.returncode != 0 and "ROBOCACHE_LOCK_TIMEOUT" in r.stderr, r.stderr


def test_lock_files_do_not_accumulate(tmp_path):
    cache = tmp_path / "c"
    warm(cache, [{**SPEC, "dim": d} for d in (3, 4, 5, 6)])
    assert len(entry_files(cache)) == 4
    assert list(cache.rglob("*.lock")) == []


THREADS_CHILD = """
import json, threading, robocache
spec, target = json.loads(__import__('sys').argv[1]), __import__('sys').argv[2]
barrier = threading.Barrier(8)
def one():
    barrier.wait()
    robocache.compile(spec, target)
threads = [threading.Thread(target=one) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps(robocache.cache_stats()))
"""


def test_threads_compile_a_spec_once_when_the_disk_cache_is_refused(tmp_path):
    cache = tmp_path / "c"
    cache.mkdir()
    os.chmod(cache, 0o777)  # refused: writable by others
    out = subprocess.run([sys.executable, "-c", THREADS_CHILD, json.dumps({**SPEC, "dim": 5}), TARGET],
                         capture_output=True, text=True, timeout=300, env=child_env(cache))
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    assert stats["compiles"] == 1, stats
    assert "refusing the kernel cache directory" in out.stderr


@needs_root
def test_world_writable_shard_folder_of_another_owner_is_refused(tmp_path):
    source = tmp_path / "source"
    key = warm(source)[0]
    cache = tmp_path / "c"
    cache.mkdir(mode=0o700)
    shard = cache / key[:2]
    shard.mkdir()
    # Another user's folder, open to everyone, holding an entry that verifies: it must not be loaded.
    (shard / f"{key}.rck").write_bytes((source / key[:2] / f"{key}.rck").read_bytes())
    os.chmod(shard, 0o777)
    os.chown(shard, OTHER_UID, -1)
    r = run_child([SPEC], TARGET, cache)
    assert r["stats"]["disk_hits"] == 0 and r["stats"]["compiles"] == 1, r
    assert "refusing the kernel cache folder" in r["stderr"], r["stderr"]


def test_cache_export_leaves_no_temp_file_when_it_fails(tmp_path):
    cache = tmp_path / "c"
    warm(cache)
    target = tmp_path / "out" / "bundle.rcb"
    target.mkdir(parents=True)  # a folder in the way: the final rename fails
    out = run_cli(["cache", "export", str(target)], cache)
    assert out.returncode != 0
    no_traceback(out)
    assert [p.name for p in target.parent.iterdir()] == ["bundle.rcb"]


# ------------------------------------------------------------------ many groups (item 4)

@needs_cpu
@pytest.mark.parametrize("dtype", ["f32", "f64", "bf16"])
def test_many_mode_changes_match_the_reference(dtype):
    """More than 32 runs of modes take the CPU backend's run-table loop: same results as the reference."""
    import ml_dtypes

    import reference as ref

    cycle = [("linear", 2), ("slerp", 4), ("nearest", 1), ("cubic", 3), ("previous", 1), ("slerp", 4)]
    groups, start = [], 0
    for _ in range(8):
        for mode, size in cycle:
            groups.append({"start": start, "size": size, "interp": mode})
            start += size
    k = robocache.compile({"op": "resample", "dtype": dtype, "dim": start, "groups": groups}, "cpu")
    rng = np.random.default_rng(4)
    B, S, T = 3, 9, 17
    data = rng.standard_normal((B, S, start))
    for g in groups:
        if g["interp"] == "slerp":
            q = data[..., g["start"]:g["start"] + 4]
            q /= np.linalg.norm(q, axis=-1, keepdims=True)
    np_dtype = {"f32": np.float32, "f64": np.float64, "bf16": ml_dtypes.bfloat16}[dtype]
    data = data.astype(np_dtype)
    src = np.sort(rng.uniform(0, 10, (B, S)), axis=1)
    tgt = rng.uniform(-1, 11, (B, T))
    lengths = np.array([S, 5, 2])
    out = k(data, src, tgt, lengths)
    want = ref.resample(data, src, tgt, groups=groups, lengths=lengths)
    ref.assert_resample_close(out, want, np.dtype(np_dtype), ref.channel_modes(start, groups=groups))


# ------------------------------------------------------------------ arrays (items 5, 6)

@needs_cpu
@pytest.mark.parametrize("argument", ["data", "src_times", "tgt_times"])
def test_kernel_call_refuses_big_endian_arrays_naming_the_argument(argument):
    k = robocache.compile(SPEC, "cpu")
    arrays = {"data": np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32),
              "src_times": np.arange(5, dtype=np.float64), "tgt_times": np.linspace(0, 4, 7)}
    arrays[argument] = arrays[argument].astype(arrays[argument].dtype.newbyteorder(">"))
    with pytest.raises(TypeError, match=f"argument '{argument}'.*byte order"):
        k(arrays["data"], arrays["src_times"], arrays["tgt_times"])


@needs_cpu
def test_kernel_call_reads_unaligned_arrays_like_aligned_ones():
    k = robocache.compile(SPEC, "cpu")
    data = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    raw = np.zeros(data.nbytes + 1, np.uint8)
    unaligned = raw[1:].view(np.float32).reshape(data.shape)
    unaligned[...] = data
    assert not unaligned.flags.aligned
    src, tgt = np.arange(5, dtype=np.float64), np.linspace(0, 4, 7)
    np.testing.assert_array_equal(k(unaligned, src, tgt), k(data, src, tgt))


@needs_cpu
def test_voxel_max_of_all_nan_features_is_nan():
    k = robocache.compile({"op": "voxelize", "mode": "max", "features": 2}, "cpu")
    points = np.array([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.5, 0.5, 0.5]], np.float32)
    features = np.array([[np.nan, 1.0], [np.nan, -3.0], [np.nan, np.nan]], np.float32)
    out = k(points, (0.0, 0.0, 0.0), 1.0, (2, 1, 1), features=features)
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 1.0  # all NaN -> NaN; NaN ignored like fmax
    assert np.isnan(out[1, 0, 0]).all()
    assert not np.isinf(out).any()


@pytest.mark.gpu
def test_voxel_max_of_all_nan_features_is_nan_on_cuda():
    import torch

    k = robocache.compile({"op": "voxelize", "mode": "max", "features": 2}, "cuda")
    points = torch.tensor([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [1.5, 0.5, 0.5]], device="cuda")
    nan = float("nan")
    features = torch.tensor([[nan, 1.0], [nan, -3.0], [nan, nan]], device="cuda")
    out = k(points, (0.0, 0.0, 0.0), 1.0, (2, 1, 1), features=features).cpu().numpy()
    assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 1.0
    assert np.isnan(out[1, 0, 0]).all()


# ------------------------------------------------------------------ CLI and messages (item 7)

def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path


@pytest.mark.parametrize("product", [{"base": {"op": "resample"}, "vary": ["dtype"]},
                                     {"base": "resample", "vary": {"dim": [3]}}])
def test_warmup_manifest_whose_vary_or_base_is_not_an_object_is_an_input_error(tmp_path, product):
    manifest = write_json(tmp_path / "m.json", {"products": [product]})
    out = run_cli(["warmup", str(manifest), "--target", TARGET], tmp_path / "c")
    assert out.returncode == 2, out.stderr
    assert "products[0]" in out.stderr and "expected an object" in out.stderr
    no_traceback(out)


def test_cache_gc_refuses_a_negative_max_bytes(tmp_path):
    out = run_cli(["cache", "gc", "--max-bytes", "-5"], tmp_path / "c")
    assert out.returncode == 2 and "--max-bytes" in out.stderr, out.stderr
    no_traceback(out)


def test_tune_with_huge_shapes_is_an_input_error(tmp_path):
    manifest = write_json(tmp_path / "m.json", {"specs": [SPEC]})
    shapes = write_json(tmp_path / "s.json", {"resample": [{"B": 10 ** 12, "S": 10 ** 12, "T": 4}]})
    out = run_cli(["tune", str(manifest), "--shapes", str(shapes), "--target", TARGET, "--quiet"], tmp_path / "c")
    assert out.returncode == 2, out.stderr
    assert "shapes.resample[0]" in out.stderr
    no_traceback(out)


@needs_cpu
@pytest.mark.parametrize("value", ["no", None, 2])
def test_validate_must_be_a_bool(value):
    k = robocache.compile(SPEC, "cpu")
    data = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(TypeError, match="argument 'validate': expected True or False") as e:
        k(data, np.arange(2.0), np.arange(2.0), validate=value)
    assert "Invoked with" not in str(e.value)


def test_spec_text_with_a_byte_order_mark_compiles():
    text = "\ufeff" + json.dumps(SPEC)
    assert robocache.compile(text, TARGET).spec == robocache.compile(SPEC, TARGET).spec


@pytest.mark.parametrize("text", ["é" + json.dumps(SPEC), json.dumps({**SPEC, "dtype": "f3\u00e9"}),
                                  json.dumps({**SPEC, "clé": 1}), '{"op": "\xff\xfe"}'])
def test_non_ascii_spec_text_gives_the_real_message(text):
    with pytest.raises(ValueError) as e:
        robocache.compile(text, TARGET)
    assert not isinstance(e.value, UnicodeError), repr(e.value)
    assert "spec field" in str(e.value)
    assert str(e.value).isascii()


@pytest.mark.parametrize("where", ["spec", "target"])
def test_undecodable_text_is_a_value_error_naming_the_argument(where):
    spec, target = json.dumps(SPEC), TARGET
    if where == "spec":
        spec = spec.replace("resample", "resample\udcff")
    else:
        target = "cpu\udcff"
    with pytest.raises(ValueError, match=f"^{where}: not valid Unicode"):
        robocache.compile(spec, target)


def test_cli_compile_reads_a_spec_file_with_a_byte_order_mark(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_bytes(b"\xef\xbb\xbf" + json.dumps(SPEC).encode())
    out = run_cli(["compile", str(spec), "--target", TARGET, "-o", str(tmp_path / "out.txt")], tmp_path / "c")
    assert out.returncode == 0, out.stderr


HUGE = "x" * 1_000_000 + "\n\x1b[2J"


def assert_escaped_and_cut(message: str):
    assert len(message) < 500, len(message)
    assert "\n" not in message and "\x1b" not in message


def test_error_messages_escape_and_cut_targets():
    with pytest.raises(ValueError) as e:
        robocache.compile(SPEC, HUGE)
    assert_escaped_and_cut(str(e.value))
    assert "unknown target" in str(e.value)


def test_error_messages_escape_and_cut_config_keys():
    with pytest.raises(ValueError) as e:
        robocache.compile(SPEC, TARGET, config={HUGE: 1})
    assert_escaped_and_cut(str(e.value))
    assert "unknown key" in str(e.value)


def test_error_messages_escape_and_cut_spec_keys_and_manifest_fields(tmp_path):
    with pytest.raises(ValueError) as e:
        robocache.compile(json.dumps({**SPEC, HUGE: 1}), TARGET)
    assert_escaped_and_cut(str(e.value))
    manifest = write_json(tmp_path / "m.json", {"products": [{"base": {"op": "resample"}, "vary": {HUGE: 3}}]})
    out = run_cli(["warmup", str(manifest), "--target", TARGET], tmp_path / "c")
    assert out.returncode == 2
    assert_escaped_and_cut(out.stderr.strip())


# ------------------------------------------------------------------ smaller (item 8)

@pytest.mark.parametrize("jobs", ["0", "-3", "many"])
def test_warmup_jobs_must_be_a_positive_count(tmp_path, jobs):
    manifest = write_json(tmp_path / "m.json", {"specs": [SPEC]})
    out = run_cli(["warmup", str(manifest), "--target", TARGET, "--jobs", jobs], tmp_path / "c")
    assert out.returncode == 2 and "--jobs" in out.stderr, out.stderr
    no_traceback(out)


def test_top_level_interp_beside_groups_is_validated_and_does_not_change_the_key():
    groups = [{"start": 0, "size": 3, "interp": "linear"}, {"start": 3, "size": 4, "interp": "slerp"}]
    spec = {"op": "resample", "dtype": "f32", "dim": 7, "groups": groups}
    with pytest.raises(ValueError, match="spec field 'interp'.*no effect beside 'groups'"):
        robocache.compile({**spec, "interp": "cubic"}, TARGET)
    assert robocache.compile({**spec, "interp": "linear"}, TARGET).key == robocache.compile(spec, TARGET).key


def test_cli_exit_codes_are_distinct_for_input_and_environment_errors(tmp_path):
    missing = run_cli(["warmup", str(tmp_path / "absent.json"), "--target", TARGET], tmp_path / "c")
    assert missing.returncode == 3, missing.stderr
    no_traceback(missing)
    bad_spec = run_cli(["compile", '{"op": "resample"}', "--target", TARGET], tmp_path / "c")
    assert bad_spec.returncode == 2, bad_spec.stderr
    no_traceback(bad_spec)

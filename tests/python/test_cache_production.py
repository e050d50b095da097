"""The kernel cache under production conditions: concurrency, damage, read-only, caps, bundles, strict."""

import json
import os
import stat

import numpy as np
import pytest

from cache_helpers import cheap_target, finish, run_child, run_cli, specs, start_child

TARGET = cheap_target()


def entry_files(cache_dir):
    return sorted(p for p in cache_dir.rglob("*.rck") if not p.name.startswith("."))


def test_eight_processes_compile_four_specs_once_each(tmp_path):
    four = specs(4)
    procs = [start_child(four, TARGET, tmp_path) for _ in range(8)]
    results = [finish(p) for p in procs]
    assert all(not r["errors"] for r in results)
    assert all(r["keys"] == results[0]["keys"] for r in results)
    assert sum(r["stats"]["compiles"] for r in results) == 4
    assert sum(r["stats"]["disk_hits"] for r in results) == 8 * 4 - 4
    assert len(entry_files(tmp_path)) == 4


@pytest.mark.parametrize("damage", ["truncate", "flip", "wrong-key"])
def test_damaged_entries_are_detected_and_replaced(tmp_path, damage):
    one = specs(1)
    first = run_child(one, TARGET, tmp_path)
    (path,) = entry_files(tmp_path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        b = bytearray(data)
        b[len(b) * 3 // 4] ^= 0x01
        path.write_bytes(bytes(b))
    else:  # a valid entry of another spec, placed under this key's name
        other = run_child(specs(1, "f64"), TARGET, tmp_path)
        other_path = next(p for p in entry_files(tmp_path) if p != path)
        path.write_bytes(other_path.read_bytes())
        assert other["keys"] != first["keys"]
    second = run_child(one, TARGET, tmp_path)
    assert second["stats"]["bad_entries"] == 1
    assert second["stats"]["compiles"] == 1
    assert "ignoring bad cache entry" in second["stderr"]
    third = run_child(one, TARGET, tmp_path)
    assert third["stats"]["compiles"] == 0 and third["stats"]["disk_hits"] == 1


def test_unwritable_cache_directory_still_compiles_and_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = (
        "import numpy as np, robocache;"
        f"k = robocache.compile({{'op':'resample','dtype':'f32','dim':2}}, '{TARGET}');"
        "print(k.key)"
    )
    import subprocess, sys

    from cache_helpers import child_env

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=child_env(blocker / "cache"), timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("cannot write the kernel cache") == 1
    assert len(out.stdout.strip()) == 64


@pytest.mark.skipif(cheap_target() != "cpu", reason="needs the CPU backend to run a kernel")
def test_readonly_mode_never_writes_and_gives_correct_results(tmp_path):
    import subprocess, sys

    from cache_helpers import child_env

    code = (
        "import numpy as np, robocache;"
        "k = robocache.compile({'op':'resample','dtype':'f32','dim':1}, 'cpu');"
        "out = k(np.array([[[0.0],[10.0]]], np.float32), np.array([0.0, 1.0]), np.array([0.25]));"
        "print(float(out[0,0,0]), robocache.cache_stats()['compiles'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=child_env(tmp_path, ROBOCACHE_CACHE_MODE="readonly"), timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2.5", "1"]
    assert list(tmp_path.iterdir()) == []


def test_size_cap_evicts_the_least_recently_used(tmp_path):
    a, b, c = specs(3)
    run_child([c], TARGET, tmp_path / "sizes")  # learn c's entry size (same key, same bytes)
    (c_entry,) = entry_files(tmp_path / "sizes")
    cache = tmp_path / "cache"
    run_child([a], TARGET, cache)
    run_child([b], TARGET, cache)
    ab_bytes = sum(p.stat().st_size for p in entry_files(cache))
    # Use a again so b becomes the least recently used, then add c with one byte too few for all three.
    assert run_child([a], TARGET, cache)["stats"]["disk_hits"] == 1
    run_child([c], TARGET, cache, ROBOCACHE_CACHE_MAX_BYTES=ab_bytes + c_entry.stat().st_size - 1)
    assert len(entry_files(cache)) == 2
    left = run_child([a, b, c], TARGET, cache)
    # a and c were still cached; b had been evicted and was compiled again.
    assert left["stats"]["disk_hits"] == 2 and left["stats"]["compiles"] == 1


def test_export_import_into_an_empty_directory_needs_no_compiles(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    four = specs(4)
    run_child(four, TARGET, src)
    bundle = tmp_path / "kernels.rcb"
    out = run_cli(["cache", "export", str(bundle)], src)
    assert out.returncode == 0 and "wrote 4 entries" in out.stdout, out.stderr
    out = run_cli(["cache", "import", str(bundle)], dst)
    assert out.returncode == 0 and "imported 4 entries" in out.stdout, out.stderr
    fresh = run_child(four, TARGET, dst)
    assert fresh["stats"]["compiles"] == 0 and fresh["stats"]["disk_hits"] == 4


def test_bundles_serve_kernels_without_a_writable_directory(tmp_path):
    four = specs(4)
    run_child(four, TARGET, tmp_path / "build")
    bundle = tmp_path / "kernels.rcb"
    assert run_cli(["cache", "export", str(bundle)], tmp_path / "build").returncode == 0
    r = run_child(four, TARGET, tmp_path / "empty", ROBOCACHE_CACHE_BUNDLES=bundle,
                  ROBOCACHE_CACHE_MODE="strict")
    assert not r["errors"]
    assert r["stats"]["compiles"] == 0 and r["stats"]["bundle_hits"] == 4


def test_strict_mode_raises_on_a_miss(tmp_path):
    r = run_child(specs(1), TARGET, tmp_path, ROBOCACHE_CACHE_MODE="strict")
    assert r["stats"]["compiles"] == 0
    (err,) = r["errors"]
    assert err.startswith("CacheMissError: strict cache mode")
    assert "robocache warmup" in err


def test_bad_cache_environment_is_a_clear_error(tmp_path):
    r = run_child(specs(1), TARGET, tmp_path, ROBOCACHE_CACHE_MODE="sometimes")
    assert "ROBOCACHE_CACHE_MODE='sometimes'" in r["errors"][0]


def test_cache_directory_is_private(tmp_path):
    d = tmp_path / "c"
    run_child(specs(1), TARGET, d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700

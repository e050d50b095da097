"""The installed C++ package: `cmake --install` of the built library into a temporary prefix, then
the consumer project examples/embed_cpp configured with find_package(robocache), built and run.

The library comes from ROBOCACHE_BUILD_DIR (default build/, what scripts/setup.sh builds). The C++
embedding guide's cpp/cmake blocks and its robot config must be the example's files, so the guide
shows what this test builds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from doc_blocks import blocks_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "embed_cpp"
GUIDE = ROOT / "docs" / "embedding-cpp.md"
BUILD = Path(os.environ.get("ROBOCACHE_BUILD_DIR", ROOT / "build"))


def _env() -> dict:
    # No sanitizer preload (scripts/sanitize.sh runs pytest with one) for cmake and the compiler;
    # no ROBOCACHE_* setting of the caller's, and a private cache.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ROBOCACHE_") and k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return env


def _run(cmd: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"`{' '.join(map(str, cmd))}` failed ({proc.returncode})\n"
                                  f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")
    return proc


def _guide_blocks(info: str) -> list[str]:
    return [b.code for b in blocks_of(Path("docs/embedding-cpp.md"), GUIDE.read_text()) if b.info == info]


def test_guide_shows_the_example_files_verbatim():
    assert _guide_blocks("cmake") == [(EXAMPLE / "CMakeLists.txt").read_text().rstrip("\n")]
    assert _guide_blocks("cpp") == [(EXAMPLE / "main.cpp").read_text().rstrip("\n")]
    assert (EXAMPLE / "robot.json").read_text().rstrip("\n") in _guide_blocks("json")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    if not (BUILD / "CMakeCache.txt").exists():
        pytest.fail(f"no configured build in {BUILD} (run scripts/setup.sh or set ROBOCACHE_BUILD_DIR)")
    prefix = tmp_path_factory.mktemp("prefix")
    _run(["cmake", "--build", BUILD, "--target", "robocache"], ROOT, _env(), timeout=1800)
    _run(["cmake", "--install", BUILD, "--prefix", prefix], ROOT, _env())
    return prefix


def test_install_holds_the_public_headers_library_and_package_only(prefix):
    headers = sorted(p.relative_to(prefix / "include").as_posix() for p in (prefix / "include").rglob("*.h"))
    assert "robocache/robocache.h" in headers
    assert all(h.startswith("robocache/") for h in headers), headers  # no compiler/, runtime/, cache/
    assert list(prefix.glob("lib*/librobocache.a"))
    cmake_dir = next(prefix.glob("lib*/cmake/robocache"))
    assert (cmake_dir / "robocacheConfigVersion.cmake").exists()
    targets = "".join(p.read_text() for p in cmake_dir.glob("robocacheTargets*.cmake"))
    assert "robocache::robocache" in targets
    assert "fmt::" not in targets and str(ROOT) not in targets  # header-only fmt and the source tree stay behind


@pytest.fixture(scope="module")
def consumer(prefix, tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("embed_cpp-build")
    env = _env()
    _run(["cmake", "-S", EXAMPLE, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release"],
         ROOT, env)
    _run(["cmake", "--build", build], ROOT, env, timeout=600)
    return build / "embed_cpp"


def test_consumer_compiles_the_robot_config_and_matches_its_reference(prefix, consumer, tmp_path):
    config = next(prefix.glob("lib*/cmake/robocache/robocacheConfig.cmake"))
    if "set(robocache_HAVE_LLVM OFF)" in config.read_text():
        pytest.skip("the library in ROBOCACHE_BUILD_DIR was built without LLVM: no CPU backend to run on")
    env = dict(_env(), ROBOCACHE_CACHE_DIR=str(tmp_path / "cache"))
    cold = subprocess.run([consumer, EXAMPLE / "robot.json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "target cpu" in cold.stdout and "(compiled)" in cold.stdout, cold.stdout
    # A second process finds the kernel in the cache directory instead of compiling.
    warm = _run([consumer, EXAMPLE / "robot.json"], tmp_path, env)
    assert "(directory)" in warm.stdout, warm.stdout
    # Production: strict mode with the warmed directory works; with an empty one it says why not.
    strict = _run([consumer, EXAMPLE / "robot.json"], tmp_path, dict(env, ROBOCACHE_CACHE_MODE="strict"))
    assert "(directory)" in strict.stdout
    miss = subprocess.run([consumer, EXAMPLE / "robot.json"], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(env, ROBOCACHE_CACHE_MODE="strict", ROBOCACHE_CACHE_DIR=str(tmp_path / "empty")))
    assert miss.returncode == 2 and "strict cache mode" in miss.stderr, miss.stderr


def test_consumer_reports_a_bad_robot_config_by_field(consumer, tmp_path):
    bad = tmp_path / "robot.json"
    bad.write_text('{"op": "resample", "dtype": "f32", "dim": 8, '
                   '"groups": [{"start": 0, "size": 3}, {"start": 3, "size": 3, "interp": "slerp"}]}')
    proc = subprocess.run([consumer, bad], cwd=tmp_path, capture_output=True, text=True,
                          env=dict(_env(), ROBOCACHE_CACHE_DIR=str(tmp_path / "cache")))
    assert proc.returncode == 2
    assert "bad spec" in proc.stderr and "groups[1].size" in proc.stderr, proc.stderr

"""The installed C++ package: `cmake --install` of the built library into a temporary prefix, then
the consumer project examples/embed_cpp configured with find_package(robocache), built and run.
And the C++ user's plain `cmake -S . -B build && cmake --build build && cmake --install build` in a
shell whose Python has no packages (no pybind11): the module is skipped, the library installs.

The library comes from ROBOCACHE_BUILD_DIR (default build/, what scripts/setup.sh builds). The C++
embedding guide's cpp/cmake blocks and its robot config must be the example's files, so the guide
shows what this test builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="module")
def plain_build(tmp_path_factory) -> tuple:
    """The README's C++ commands on this checkout, in a shell whose Python is an empty venv (no
    pybind11, no numpy): the project venv is off PATH. Returns (prefix, configure output)."""
    tmp = tmp_path_factory.mktemp("plain")
    venv = tmp / "empty-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    env = _env()
    env.pop("PYTHONPATH", None)
    own_bin = Path(sys.executable).parent.resolve()  # the project venv's bin/, with pybind11
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and Path(p).resolve() != own_bin and not Path(p).resolve().is_relative_to(ROOT)]
    env.update(PATH=os.pathsep.join([str(venv / "bin"), *path]), VIRTUAL_ENV=str(venv))
    assert subprocess.run([venv / "bin" / "python", "-c", "import pybind11"], env=env,
                          capture_output=True).returncode != 0, "the empty venv should lack pybind11"
    # The commands exactly; through the environment, a fresh tree beside build/ (gitignored) built by
    # Ninja through ccache where they are installed, so what build/ compiled is reused (same flags,
    # same paths relative to the tree): faster, and the same objects.
    build, prefix = ROOT / "build-plain-cmake", tmp / "prefix"
    shutil.rmtree(build, ignore_errors=True)
    if shutil.which("ninja"):
        env["CMAKE_GENERATOR"] = "Ninja"
    if shutil.which("ccache"):
        env["CMAKE_CXX_COMPILER_LAUNCHER"] = "ccache"
    configure = _run(["cmake", "-S", ROOT, "-B", build], ROOT, env)
    _run(["cmake", "--build", build], ROOT, env, timeout=3600)
    _run(["cmake", "--install", build, "--prefix", prefix], ROOT, env)
    return prefix, configure.stdout


def test_plain_cmake_without_python_packages_skips_the_module_and_installs(plain_build, tmp_path):
    prefix, configure = plain_build
    notices = [line for line in configure.splitlines() if "Python module skipped" in line]
    assert len(notices) == 1 and "pybind11 not found" in notices[0], configure
    assert list(prefix.glob("lib*/librobocache.a")) and (prefix / "include/robocache/robocache.h").exists()

    build = tmp_path / "consumer"
    _run(["cmake", "-S", EXAMPLE, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}", "-DCMAKE_BUILD_TYPE=Release"],
         ROOT, _env())
    _run(["cmake", "--build", build], ROOT, _env(), timeout=600)
    config = next(prefix.glob("lib*/cmake/robocache/robocacheConfig.cmake"))
    if "set(robocache_HAVE_LLVM OFF)" in config.read_text():
        pytest.skip("built without LLVM here: the consumer links but has no CPU backend to run on")
    run = _run([build / "embed_cpp", EXAMPLE / "robot.json"], tmp_path,
               dict(_env(), ROBOCACHE_CACHE_DIR=str(tmp_path / "cache")))
    assert "target cpu" in run.stdout, run.stdout


def test_configure_without_googletest_skips_the_tests_in_one_line(tmp_path):
    # A machine without libgtest-dev, as CMake's switch for a package it must not find.
    proc = _run(["cmake", "-S", ROOT, "-B", tmp_path / "build", "-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON",
                 "-DROBOCACHE_BUILD_PYTHON=OFF"], ROOT, _env())
    notices = [line for line in proc.stdout.splitlines() if "tests skipped" in line]
    assert len(notices) == 1 and "GoogleTest not found" in notices[0], proc.stdout

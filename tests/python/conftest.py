"""Shared fixtures: a private kernel cache for the test session, and the GPU marker."""

import os
import tempfile

import pytest

# Before robocache is imported anywhere: the process-wide engine reads this once.
os.environ["ROBOCACHE_CACHE_DIR"] = tempfile.mkdtemp(prefix="robocache-pytest-")

import robocache  # noqa: E402


def _cuda_ready() -> str:
    """Empty when GPU tests can run, else why not."""
    status = robocache.check_installation()["cuda"]
    if not status["available"]:
        return status.get("reason", "CUDA unavailable")
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    return ""


_CUDA_SKIP_REASON = _cuda_ready()

# ROBOCACHE_TEST_CUDA_DEVICE=1 runs every GPU test on cuda:1: the tests allocate with `.cuda()`,
# which follows torch's current device (used for the multi-GPU validation, docs/multi-gpu.md).
if not _CUDA_SKIP_REASON and os.environ.get("ROBOCACHE_TEST_CUDA_DEVICE"):
    import torch

    torch.cuda.set_device(int(os.environ["ROBOCACHE_TEST_CUDA_DEVICE"]))


def _cpu_backend_missing() -> str:
    import robocache

    cpu = robocache.check_installation()["cpu"]
    return "" if cpu["available"] else f"needs the CPU backend: {cpu.get('reason', 'unavailable')}"


def pytest_collection_modifyitems(config, items):
    # Modules marked cpu_backend run their non-GPU tests on the CPU backend; a build without LLVM
    # (the GPU machine) skips those and still runs the module's GPU tests.
    cpu_reason = _cpu_backend_missing()
    if cpu_reason:
        skip_cpu = pytest.mark.skip(reason=cpu_reason)
        for item in items:
            if "cpu_backend" in item.keywords and "gpu" not in item.keywords:
                item.add_marker(skip_cpu)
    if not _CUDA_SKIP_REASON:
        return
    skip = pytest.mark.skip(reason=f"GPU test: {_CUDA_SKIP_REASON}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_device_error_left_behind(request):
    """A GPU test must consume every argument error its kernels reported (robocache.synchronize()
    raises it); one left behind fails that test's teardown instead of the next test's first call."""
    yield
    if _CUDA_SKIP_REASON or "gpu" not in request.node.keywords:
        return
    try:
        robocache.synchronize()
    except ValueError as e:
        pytest.fail(f"a device-side argument error was left unreported: {e}")

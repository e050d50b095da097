"""Importing works everywhere; check_installation() explains what is missing."""

import subprocess
import sys

import pytest

import robocache


def test_check_installation_reports_every_backend():
    status = robocache.check_installation()
    for name in ("cpu", "cuda"):
        assert isinstance(status[name]["available"], bool)
        if not status[name]["available"]:
            assert status[name]["reason"], f"{name} unavailable without a reason"
    assert status["cache_dir"]


def test_import_in_a_fresh_process_succeeds():
    out = subprocess.run([sys.executable, "-c", "import robocache; print(robocache.__version__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == robocache.__version__


@pytest.mark.skipif(robocache.check_installation()["cuda"]["available"], reason="this machine has a GPU")
def test_without_a_driver_the_reason_names_the_driver():
    cuda = robocache.check_installation()["cuda"]
    assert "driver" in cuda["reason"] or "built without" in cuda["reason"]
    assert cuda["devices"] == []
    with pytest.raises(robocache.BackendUnavailable):
        robocache.compile({"op": "resample", "dtype": "f32", "dim": 2}, "cuda")

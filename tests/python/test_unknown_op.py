"""An op the native module knows but the Python package has no call for fails naming the op,
instead of being run as a voxelize (robocache.Kernel's dispatch, tuning's synthetic inputs)."""

import pytest

import robocache
from robocache import tuning_inputs

pytestmark = pytest.mark.cpu_backend


def test_synthetic_tuning_inputs_name_an_unknown_op():
    with pytest.raises(ValueError, match="op 'window'"):
        tuning_inputs._elements("window", {"B": 1, "S": 4, "T": 2})


def test_a_kernel_of_an_unknown_op_is_not_called_as_a_voxelize():
    k = robocache.compile({"op": "voxelize", "mode": "occupancy"}, target="cpu")
    k._spec = dict(k._spec, op="window")  # what a Kernel of an op added natively only would hold
    with pytest.raises(NotImplementedError, match="op 'window'"):
        k([[0.5, 0.5, 0.5]], (0, 0, 0), (1, 1, 1), (1, 1, 1), validate=True, stream=0)

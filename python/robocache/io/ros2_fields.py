"""Which values each ROS 2 message type gives, as streams named `topic.field`: one function per
type turning a decoded message into rows of floats, and the streams' channel names and modes.

Frames (images, point clouds) give their index in the topic (0, 1, ...) under mode `nearest`:
aligned, it says which recorded frame belongs to each target; the payload is not kept."""

from __future__ import annotations

from typing import Callable, Dict, List, Tuple

XYZ = ["x", "y", "z"]
XYZW = ["x", "y", "z", "w"]

# field name -> (channel names, default mode); the order of a type's fields is the order of its values
FIELDS: Dict[str, List[Tuple[str, List[str], str]]] = {
    "sensor_msgs/msg/Imu": [("orientation", XYZW, "slerp"), ("angular_velocity", XYZ, "linear"),
                            ("linear_acceleration", XYZ, "linear")],
    "geometry_msgs/msg/PoseStamped": [("position", XYZ, "linear"), ("orientation", XYZW, "slerp")],
    "geometry_msgs/msg/WrenchStamped": [("force", XYZ, "linear"), ("torque", XYZ, "linear")],
    "sensor_msgs/msg/PointCloud2": [("frame", ["index", "points"], "nearest")],
    "sensor_msgs/msg/CompressedImage": [("frame", ["index"], "nearest")],
    "sensor_msgs/msg/Image": [("frame", ["index"], "nearest")],
    # JointState's channels are its joint names, read from the first message
    "sensor_msgs/msg/JointState": [("position", [], "linear"), ("velocity", [], "linear"),
                                   ("effort", [], "linear")],
}


def _v(v) -> list:
    return [v.x, v.y, v.z]


def _q(q) -> list:
    return [q.x, q.y, q.z, q.w]


def _imu(m, i):
    return [_q(m.orientation), _v(m.angular_velocity), _v(m.linear_acceleration)]


def _pose(m, i):
    return [_v(m.pose.position), _q(m.pose.orientation)]


def _wrench(m, i):
    return [_v(m.wrench.force), _v(m.wrench.torque)]


def _cloud(m, i):
    return [[float(i), float(m.width * m.height)]]


def _frame(m, i):
    return [[float(i)]]


def _joints(m, i):
    return [list(m.position), list(m.velocity), list(m.effort)]


#: type -> function(message, index in topic) returning one list of floats per field
EXTRACT: Dict[str, Callable] = {
    "sensor_msgs/msg/Imu": _imu,
    "geometry_msgs/msg/PoseStamped": _pose,
    "geometry_msgs/msg/WrenchStamped": _wrench,
    "sensor_msgs/msg/PointCloud2": _cloud,
    "sensor_msgs/msg/CompressedImage": _frame,
    "sensor_msgs/msg/Image": _frame,
    "sensor_msgs/msg/JointState": _joints,
}


def normalise(datatype: str) -> str:
    """"sensor_msgs/JointState" (ROS 1 spelling) -> "sensor_msgs/msg/JointState"."""
    pkg, _, name = datatype.rpartition("/")
    return datatype if pkg.endswith("/msg") else f"{pkg}/msg/{name}"

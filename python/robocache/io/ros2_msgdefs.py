"""ROS 2 message definitions, as rosbag2 stores them in an MCAP schema record: the type's own
definition, then each type it uses after a line of 80 '=' and `MSG: package/Type`.

The reader does not need them (a real bag carries its own); the writers of robocache.io.synthetic
do, to encode real CDR messages with mcap-ros2-support."""

from __future__ import annotations

_SEP = "=" * 80

_DEFS = {
    "builtin_interfaces/Time": "int32 sec\nuint32 nanosec\n",
    "std_msgs/Header": "builtin_interfaces/Time stamp\nstring frame_id\n",
    "geometry_msgs/Vector3": "float64 x\nfloat64 y\nfloat64 z\n",
    "geometry_msgs/Point": "float64 x\nfloat64 y\nfloat64 z\n",
    "geometry_msgs/Quaternion": "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n",
    "geometry_msgs/Pose": "Point position\nQuaternion orientation\n",
    "geometry_msgs/PoseStamped": "std_msgs/Header header\nPose pose\n",
    "geometry_msgs/Wrench": "Vector3 force\nVector3 torque\n",
    "geometry_msgs/WrenchStamped": "std_msgs/Header header\nWrench wrench\n",
    "sensor_msgs/JointState": ("std_msgs/Header header\n\nstring[] name\nfloat64[] position\n"
                               "float64[] velocity\nfloat64[] effort\n"),
    "sensor_msgs/Imu": ("std_msgs/Header header\n\ngeometry_msgs/Quaternion orientation\n"
                        "float64[9] orientation_covariance\n\ngeometry_msgs/Vector3 angular_velocity\n"
                        "float64[9] angular_velocity_covariance\n\ngeometry_msgs/Vector3 linear_acceleration\n"
                        "float64[9] linear_acceleration_covariance\n"),
    "sensor_msgs/PointField": ("uint8 INT8    = 1\nuint8 UINT8   = 2\nuint8 INT16   = 3\nuint8 UINT16  = 4\n"
                               "uint8 INT32   = 5\nuint8 UINT32  = 6\nuint8 FLOAT32 = 7\nuint8 FLOAT64 = 8\n\n"
                               "string name\nuint32 offset\nuint8  datatype\nuint32 count\n"),
    "sensor_msgs/PointCloud2": ("std_msgs/Header header\n\nuint32 height\nuint32 width\n\nPointField[] fields\n\n"
                                "bool    is_bigendian\nuint32  point_step\nuint32  row_step\nuint8[] data\n\n"
                                "bool is_dense\n"),
    "sensor_msgs/CompressedImage": "std_msgs/Header header\n\nstring format\nuint8[] data\n",
    "sensor_msgs/Image": ("std_msgs/Header header\n\nuint32 height\nuint32 width\nstring encoding\n"
                          "uint8 is_bigendian\nuint32 step\nuint8[] data\n"),
}

# the types each definition uses, in the order rosbag2 appends them
_USES = {
    "std_msgs/Header": ["builtin_interfaces/Time"],
    "geometry_msgs/Pose": ["geometry_msgs/Point", "geometry_msgs/Quaternion"],
    "geometry_msgs/PoseStamped": ["std_msgs/Header", "geometry_msgs/Pose"],
    "geometry_msgs/Wrench": ["geometry_msgs/Vector3"],
    "geometry_msgs/WrenchStamped": ["std_msgs/Header", "geometry_msgs/Wrench"],
    "sensor_msgs/JointState": ["std_msgs/Header"],
    "sensor_msgs/Imu": ["std_msgs/Header", "geometry_msgs/Quaternion", "geometry_msgs/Vector3"],
    "sensor_msgs/PointCloud2": ["std_msgs/Header", "sensor_msgs/PointField"],
    "sensor_msgs/CompressedImage": ["std_msgs/Header"],
    "sensor_msgs/Image": ["std_msgs/Header"],
}


def _closure(name: str, seen: list) -> list:
    for dep in _USES.get(name, []):
        if dep not in seen:
            seen.append(dep)
            _closure(dep, seen)
    return seen


def schema_text(datatype: str) -> str:
    """The full definition of `datatype` (e.g. "sensor_msgs/msg/JointState") as a bag stores it."""
    short = datatype.replace("/msg/", "/")
    if short not in _DEFS:
        raise ValueError(f"argument 'datatype': no definition for {datatype!r}; known: {', '.join(sorted(_DEFS))}")
    parts = [_DEFS[short]]
    for dep in _closure(short, []):
        parts.append(f"{_SEP}\nMSG: {dep}\n{_DEFS[dep]}")
    return "\n".join(parts)


#: The message types robocache.io reads, as ROS 2 names them.
TYPES = ("sensor_msgs/msg/JointState", "sensor_msgs/msg/Imu", "sensor_msgs/msg/PointCloud2",
         "sensor_msgs/msg/CompressedImage", "sensor_msgs/msg/Image", "geometry_msgs/msg/PoseStamped",
         "geometry_msgs/msg/WrenchStamped")

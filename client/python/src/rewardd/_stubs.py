"""The generated protobuf and gRPC modules, imported in one place.

They are generated at build time from protos/ (client/python/gen_stubs.py)
into the `rewardd._gen` package and never committed: see docs/python.md,
"Install".
"""

try:
    from rewardd._gen.grpc.health.v1 import health_pb2, health_pb2_grpc
    from rewardd._gen.reward.v1 import reward_pb2, reward_pb2_grpc
    from rewardd._gen.reward.v1 import rubric_service_pb2, rubric_service_pb2_grpc
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "rewardd's generated gRPC stubs (rewardd._gen) are missing: build them with "
        "`ninja -C build rewardd_python` (then PYTHONPATH=build/python) or "
        "`/usr/bin/python3 client/python/gen_stubs.py --in-tree` before `pip install "
        "client/python` (docs/python.md)") from e

__all__ = ["health_pb2", "health_pb2_grpc", "reward_pb2", "reward_pb2_grpc",
           "rubric_service_pb2", "rubric_service_pb2_grpc"]

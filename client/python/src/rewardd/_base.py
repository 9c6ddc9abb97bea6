"""What RewardClient and AsyncRewardClient share: options, lazy per-process
channels, pickling without channels, and the retry decision.

Thread-safety: as the clients (see client.py, aio.py).
"""

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import grpc

from rewardd import _channels, _lazy_proto
from rewardd._stubs import health_pb2_grpc, reward_pb2_grpc, rubric_service_pb2_grpc
from rewardd.options import ClientOptions


def make_options(target: Any, options: Optional[ClientOptions], overrides: Mapping[str, Any]) -> ClientOptions:
    """ClientOptions from a client constructor's arguments."""
    if options is not None:
        if target is not None or overrides:
            raise ValueError("pass either options=ClientOptions(...) or target/keyword options, not both")
        return options
    if target is not None:
        overrides = dict(overrides, target=target)
    return ClientOptions(**overrides)


class ClientBase:
    """Options and channels; subclasses set the gRPC channel constructors."""

    _insecure_channel: Callable[..., Any] = staticmethod(grpc.insecure_channel)
    _secure_channel: Callable[..., Any] = staticmethod(grpc.secure_channel)

    def __init__(self, target: Union[str, Sequence[str], None] = None, *,
                 options: Optional[ClientOptions] = None, **kwargs: Any) -> None:
        """`target` and keyword arguments are ClientOptions fields, or pass
        `options=ClientOptions(...)`. Nothing connects until the first call."""
        self.options = make_options(target, options, kwargs)
        self._channels = _channels.LazyChannels(self.options, self._make_endpoint)

    # Pickling keeps the options and drops the channels (recreated on use).
    def __getstate__(self) -> dict:
        return {"options": self.options}

    def __setstate__(self, state: dict) -> None:
        self.__init__(options=state["options"])  # type: ignore[misc]

    def _make_endpoint(self, target: str) -> _channels.Endpoint:
        creds = self.options.credentials()
        args = self.options.channel_args()
        if creds is None:
            channel = self._insecure_channel(target, options=args)
        else:
            channel = self._secure_channel(target, creds, options=args)
        return _channels.Endpoint(target, channel, reward_pb2_grpc.RewardServiceStub(channel),
                                  health_pb2_grpc.HealthStub(channel),
                                  rubric_service_pb2_grpc.RubricServiceStub(channel),
                                  _lazy_proto.LazyGradeStub(channel))

    def _retryable(self, error: grpc.RpcError, attempt: int) -> bool:
        """Whether a failed attempt is tried again: UNAVAILABLE only (the
        server never answered, or is draining), within max_attempts."""
        return error.code() == grpc.StatusCode.UNAVAILABLE and attempt < self.options.max_attempts

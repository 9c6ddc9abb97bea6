"""Exceptions of the rewardd client.

`RewardError` carries the gRPC status code and message unchanged, whatever
call failed: `except RewardError as e: e.code is grpc.StatusCode.NOT_FOUND`.
Bad arguments detected before any call are `ValueError`/`TypeError` naming
the argument.

Thread-safety: immutable values.
"""

from typing import Optional

import grpc

_BY_VALUE = {code.value[0]: code for code in grpc.StatusCode}


def status_code(value: int) -> grpc.StatusCode:
    """The grpc.StatusCode for a numeric code (proto `Error.code`)."""
    return _BY_VALUE.get(value, grpc.StatusCode.UNKNOWN)


class RewardError(Exception):
    """A call to rewardd failed: `code` (grpc.StatusCode) and `message`.

    Codes rewardd uses (README, "Errors"): NOT_FOUND (unknown rubric set or
    id, no rubric for the prompt), INVALID_ARGUMENT (bad inline rubric, over
    a limit, unknown judge), RESOURCE_EXHAUSTED (queue full, too many
    streams), UNAVAILABLE (server down or draining; retried by the client),
    DEADLINE_EXCEEDED, UNAUTHENTICATED (missing or wrong token).
    """

    def __init__(self, code: grpc.StatusCode, message: str, *, attempts: int = 1,
                 target: Optional[str] = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        #: Calls made, retries included.
        self.attempts = attempts
        #: The channel target of the last attempt, when known.
        self.target = target

    @property
    def code_name(self) -> str:
        """"NOT_FOUND", "INVALID_ARGUMENT", ..."""
        return self.code.name

    @property
    def code_value(self) -> int:
        """The numeric code (5 for NOT_FOUND, ...)."""
        return int(self.code.value[0])

    def __str__(self) -> str:
        suffix = " (after %d attempts)" % self.attempts if self.attempts > 1 else ""
        return "%s: %s%s" % (self.code.name, self.message, suffix)

    def __reduce__(self):  # picklable across process pools
        return (_rebuild, (self.code_value, self.message, self.attempts, self.target))

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, *, attempts: int = 1,
                       target: Optional[str] = None) -> "RewardError":
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = error.details() if hasattr(error, "details") else str(error)
        return cls(code or grpc.StatusCode.UNKNOWN, details or "", attempts=attempts,
                   target=target)


def _rebuild(code: int, message: str, attempts: int, target: Optional[str]) -> RewardError:
    return RewardError(status_code(code), message, attempts=attempts, target=target)


class InvalidRewardError(RuntimeError):
    """Raised by adapters under on_invalid="raise": the result must not be
    used as a reward (`result.valid` is false; `result.invalid_reason` says
    why). Not a transport error: the call itself succeeded."""

    def __init__(self, message: str, results=()) -> None:
        super().__init__(message)
        self.results = tuple(results)

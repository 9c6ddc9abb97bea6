"""The events of one RefineRubric call, as an iterator (RefineStream, for
RewardClient) or an async iterator (AsyncRefineStream, for
AsyncRewardClient).

    with client.refine_rubric(prompt, candidates, rubric=r) as events:
        for event in events:
            if event.kind == "final":
                use(event.rubric)

Stopping early cancels the call on the server, which stops the refinement
(no further proposer or verifier calls): leaving a `with` block, `cancel()`,
or dropping the last reference to the stream (e.g. `break` out of
`for event in client.refine_rubric(...)`). After a cancel the iterator ends
without an error. A failed call raises RewardError with the server's code
and message (streams are not retried: a refinement is not idempotent).
`final` holds the FinalEvent once it has been read; `result()` reads to the
end and returns it.

Thread-safety: one consumer at a time; cancel() may be called from any
thread (RefineStream) or from the event loop (AsyncRefineStream).
"""

import asyncio
from typing import Any, Optional

import grpc
import grpc.aio

from rewardd.errors import RewardError
from rewardd.rubric_results import FinalEvent, RefineEvent, event_from_proto


class _StreamBase:
    def __init__(self, call: Any, target: str) -> None:
        self._call = call
        self._target = target
        self._cancelled = False
        self._ended = False
        #: The FinalEvent, once read.
        self.final: Optional[FinalEvent] = None

    @property
    def cancelled(self) -> bool:
        """Whether this client cancelled the call."""
        return self._cancelled

    def cancel(self) -> None:
        """Cancels the call (the server stops the refinement); the iterator
        then ends. Does nothing once the stream has ended."""
        if not self._ended and not self._cancelled:
            self._cancelled = True
            self._call.cancel()

    def _event(self, proto: Any) -> Optional[RefineEvent]:
        event = event_from_proto(proto)
        if isinstance(event, FinalEvent):
            self.final = event
        return event

    def _final_event(self) -> FinalEvent:
        if self.final is None:
            raise RewardError(grpc.StatusCode.CANCELLED if self._cancelled
                              else grpc.StatusCode.INTERNAL,
                              "RefineRubric ended without a final event", target=self._target)
        return self.final

    def _error(self, e: grpc.RpcError) -> RewardError:
        self._ended = True
        return RewardError.from_rpc_error(e, target=self._target)

    def __del__(self) -> None:
        # An abandoned stream must not leave the refinement running.
        try:
            self.cancel()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


class RefineStream(_StreamBase):
    """Iterator of the RefineEvents of one RefineRubric call (blocking)."""

    def __iter__(self) -> "RefineStream":
        return self

    def __next__(self) -> RefineEvent:
        while True:
            if self._ended or self._cancelled:
                raise StopIteration
            try:
                proto = next(self._call)
            except StopIteration:
                self._ended = True
                raise
            except grpc.RpcError as e:
                if self._cancelled:
                    raise StopIteration from None
                raise self._error(e) from None
            event = self._event(proto)
            if event is not None:
                return event

    def result(self) -> FinalEvent:
        """Reads the remaining events and returns the FinalEvent."""
        for _ in self:
            pass
        return self._final_event()

    def __enter__(self) -> "RefineStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()


class AsyncRefineStream(_StreamBase):
    """Async iterator of the RefineEvents of one RefineRubric call."""

    def __aiter__(self) -> "AsyncRefineStream":
        return self

    async def __anext__(self) -> RefineEvent:
        while True:
            if self._ended or self._cancelled:
                raise StopAsyncIteration
            try:
                proto = await self._call.read()
            except asyncio.CancelledError:
                if self._cancelled:  # our own cancel() while reading
                    raise StopAsyncIteration from None
                raise
            except grpc.RpcError as e:
                if self._cancelled:
                    raise StopAsyncIteration from None
                raise self._error(e) from None
            if proto is grpc.aio.EOF:
                self._ended = True
                raise StopAsyncIteration
            event = self._event(proto)
            if event is not None:
                return event

    async def result(self) -> FinalEvent:
        """Reads the remaining events and returns the FinalEvent."""
        async for _ in self:
            pass
        return self._final_event()

    async def __aenter__(self) -> "AsyncRefineStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.cancel()

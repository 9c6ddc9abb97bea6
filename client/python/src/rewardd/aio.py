"""AsyncRewardClient: the asyncio (grpc.aio) client of rewardd
(reward.v1.RewardService and reward.v1.RubricService).

    from rewardd import AsyncRewardClient
    client = AsyncRewardClient("10.0.0.1:50051,10.0.0.2:50051")
    group = await client.grade_group(responses, rubric_set="demo", rubric_id="arith-1")
    async for r in client.stream(requests, window=64):
        ...   # one result per request, in any order, matched by request_id

Same options, retries, deadlines and errors as RewardClient. grpc.aio
channels belong to one event loop: they are opened lazily in the process and
the loop that makes the call (a new loop, a fork or unpickling opens new
ones).

Thread-safety: use from the event loop(s) of one process; the object itself
may be shared by loops in different threads (each gets its own channels).
"""

import asyncio
import time
from typing import (Any, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, List,
                    Mapping, Optional, Sequence, Set, Tuple, TypeVar, Union)

import grpc
import grpc.aio

from rewardd import _channels
from rewardd._base import ClientBase
from rewardd._stubs import health_pb2, reward_pb2
from rewardd.errors import RewardError
from rewardd.refine_stream import AsyncRefineStream
from rewardd.requests import (Group, GroupLike, OptionsLike, Prompt, Request, RequestLike,
                              group_proto, request_proto, saturated_request)
from rewardd.results import GradeResult, GroupResult, Rubric, RubricSetInfo, SaturatedRubric
from rewardd.rubric_requests import (CandidateLike, ProposerLike, RefineLike, RubricLike,
                                     VerifierLike, generate_request, refine_request)
from rewardd.rubric_results import GeneratedRubric

T = TypeVar("T")
_SERVING_STATUS = health_pb2.HealthCheckResponse.ServingStatus


class AsyncRewardClient(ClientBase):
    """asyncio client; see the module docstring."""

    _insecure_channel = staticmethod(grpc.aio.insecure_channel)
    _secure_channel = staticmethod(grpc.aio.secure_channel)

    def _set(self) -> _channels.ChannelSet:
        return self._channels.get(asyncio.get_running_loop())

    async def _retrying(self, call: Callable[[_channels.Endpoint, float], Awaitable[T]],
                        timeout: Optional[float]) -> T:
        options = self.options
        deadline = time.monotonic() + (timeout if timeout is not None else options.deadline)
        waits = _channels.backoffs(options)
        attempt = 0
        while True:
            attempt += 1
            channel_set = self._set()
            endpoint = channel_set.pick()
            left = deadline - time.monotonic()
            if left <= 0:
                raise RewardError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                  "deadline exceeded before attempt %d" % attempt,
                                  attempts=attempt - 1, target=endpoint.target)
            try:
                return await call(endpoint, left)
            except grpc.RpcError as e:
                if not self._retryable(e, attempt):
                    raise RewardError.from_rpc_error(e, attempts=attempt,
                                                     target=endpoint.target) from None
                wait = next(waits)
                channel_set.mark_failed(endpoint, max(wait, options.initial_backoff))
                await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))

    async def _unary(self, method: str, request: Any, timeout: Optional[float],
                     service: str = "reward") -> Any:
        md = self.options.metadata()
        wfr = self.options.wait_for_ready

        async def call(endpoint: _channels.Endpoint, left: float) -> Any:
            return await getattr(getattr(endpoint, service), method)(
                request, timeout=left, metadata=md, wait_for_ready=wfr)

        return await self._retrying(call, timeout)

    async def grade(self, response: str, *, rubric_set: str = "", rubric_id: str = "",
                    rubric: Optional[Mapping[str, Any]] = None, prompt: Prompt = None,
                    options: OptionsLike = None, labels: Optional[Mapping[str, str]] = None,
                    request_id: str = "", timeout: Optional[float] = None) -> GradeResult:
        req = Request(response, rubric_set=rubric_set, rubric_id=rubric_id, rubric=rubric, prompt=prompt,
                      options=options, labels=labels, request_id=request_id)
        return await self.grade_request(req, timeout=timeout)

    async def grade_request(self, request: RequestLike, *,
                            timeout: Optional[float] = None) -> GradeResult:
        return GradeResult.from_proto(
            await self._unary("Grade", request_proto(request), timeout, "grade"))

    async def grade_group(self, responses: Sequence[str], *, rubric_set: str = "",
                          rubric_id: str = "", rubric: Optional[Mapping[str, Any]] = None,
                          prompt: Prompt = None, options: OptionsLike = None,
                          labels: Optional[Mapping[str, str]] = None, request_id: str = "",
                          timeout: Optional[float] = None) -> GroupResult:
        group = Group(responses, rubric_set=rubric_set, rubric_id=rubric_id, rubric=rubric,
                      prompt=prompt, options=options, labels=labels, request_id=request_id)
        return await self.grade_group_request(group, timeout=timeout)

    async def grade_group_request(self, group: GroupLike, *,
                                  timeout: Optional[float] = None) -> GroupResult:
        return GroupResult.from_proto(
            await self._unary("GradeGroup", group_proto(group), timeout, "grade"))

    async def _bounded(self, fn: Callable[[Any], Awaitable[T]], items: Sequence[Any],
                       concurrency: int, return_exceptions: bool) -> List[Any]:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1, got %r" % (concurrency,))
        sem = asyncio.Semaphore(concurrency)

        async def one(item: Any) -> T:
            async with sem:
                return await fn(item)

        tasks = [asyncio.ensure_future(one(i)) for i in items]
        try:
            return list(await asyncio.gather(*tasks, return_exceptions=return_exceptions))
        finally:
            for t in tasks:
                t.cancel()

    async def grade_many(self, requests: Sequence[RequestLike], *, concurrency: int = 64,
                         return_exceptions: bool = False,
                         timeout: Optional[float] = None) -> List[Any]:
        """Grades requests with at most `concurrency` unary calls in flight;
        results in request order (errors as in RewardClient.grade_many)."""
        protos = [request_proto(r) for r in requests]

        async def one(r: Any) -> GradeResult:
            return GradeResult.from_proto(await self._unary("Grade", r, timeout, "grade"))

        return await self._bounded(one, protos, concurrency, return_exceptions)

    async def grade_groups(self, groups: Sequence[GroupLike], *, concurrency: int = 16,
                           return_exceptions: bool = False,
                           timeout: Optional[float] = None) -> List[Any]:
        protos = [group_proto(g) for g in groups]

        async def one(g: Any) -> GroupResult:
            return GroupResult.from_proto(await self._unary("GradeGroup", g, timeout, "grade"))

        return await self._bounded(one, protos, concurrency, return_exceptions)

    async def stream(self, requests: Union[Iterable[RequestLike], AsyncIterable[RequestLike]], *,
                     window: int = 64, timeout: Optional[float] = None) -> AsyncIterator[GradeResult]:
        """Grades requests over one GradeStream, at most `window` unanswered.

        Yields one GradeResult per request as answers arrive (any order; match
        them by `request_id`; a request without one is named by its index).
        An item the server rejected comes back with `error` set and the
        stream goes on. If the stream itself fails, the iterator raises
        RewardError (streams are not retried). `timeout` bounds the whole
        stream (None: no deadline).
        """
        if window < 1:
            raise ValueError("window must be at least 1, got %r" % (window,))
        endpoint = self._set().pick()
        call = endpoint.reward.GradeStream(metadata=self.options.metadata(), timeout=timeout,
                                           wait_for_ready=self.options.wait_for_ready)
        sem = asyncio.Semaphore(window)
        in_flight: Set[str] = set()
        writer_error: List[BaseException] = []

        async def items() -> AsyncIterator[RequestLike]:
            if hasattr(requests, "__aiter__"):
                async for r in requests:  # type: ignore[union-attr]
                    yield r
            else:
                for r in requests:  # type: ignore[union-attr]
                    yield r

        async def write() -> None:
            try:
                index = 0
                source = items().__aiter__()
                while True:
                    # A slot first, then the next request: a lazy source is
                    # read no further ahead than the window.
                    await sem.acquire()
                    try:
                        r = await source.__anext__()
                    except StopAsyncIteration:
                        break
                    proto = reward_pb2.GradeRequest()
                    proto.CopyFrom(request_proto(r))
                    if not proto.request_id:
                        proto.request_id = str(index)
                    index += 1
                    if proto.request_id in in_flight:
                        raise ValueError("stream: request_id %r is already in flight" % proto.request_id)
                    in_flight.add(proto.request_id)
                    await call.write(proto)
                await call.done_writing()
            except asyncio.CancelledError:
                raise
            except grpc.RpcError:
                pass  # the call ended; the reader reports its status
            except BaseException as e:  # a bad request: end the stream with it
                writer_error.append(e)
                call.cancel()

        writer = asyncio.ensure_future(write())
        try:
            try:
                async for resp in call:
                    in_flight.discard(resp.request_id)
                    sem.release()
                    yield GradeResult.from_proto(resp)
            except asyncio.CancelledError:
                if writer_error:  # the writer cancelled the call: report why
                    raise writer_error[0] from None
                raise
            except grpc.RpcError as e:
                if writer_error:
                    raise writer_error[0] from None
                raise RewardError.from_rpc_error(e, target=endpoint.target) from None
            if writer_error:
                raise writer_error[0]
            await writer
        finally:
            if not writer.done():
                writer.cancel()
            if not call.done():
                call.cancel()

    async def list_rubric_sets(self, *, timeout: Optional[float] = None) -> List[RubricSetInfo]:
        r = await self._unary("ListRubricSets", reward_pb2.ListRubricSetsRequest(), timeout)
        return [RubricSetInfo.from_proto(s) for s in r.sets]

    async def get_rubric(self, rubric_set: str, rubric_id: str, *,
                         timeout: Optional[float] = None) -> Rubric:
        r = await self._unary("GetRubric", reward_pb2.GetRubricRequest(
            rubric_set=rubric_set, rubric_id=rubric_id), timeout)
        return Rubric.from_proto(r)

    async def list_saturated_rubrics(self, rubric_set: str = "", *, limit: int = 0,
                                     timeout: Optional[float] = None
                                     ) -> Tuple[SaturatedRubric, ...]:
        """As RewardClient.list_saturated_rubrics."""
        r = await self._unary("ListSaturatedRubrics", saturated_request(rubric_set, limit),
                              timeout)
        return tuple(SaturatedRubric.from_proto(x) for x in r.rubrics)

    async def generate_rubric(self, prompt: Prompt, *,
                              reference_responses: Optional[Sequence[str]] = None,
                              proposer: ProposerLike = None, rubric_id: str = "",
                              timeout: Optional[float] = None) -> GeneratedRubric:
        """As RewardClient.generate_rubric."""
        req = generate_request(prompt, reference_responses=reference_responses,
                               proposer=proposer, rubric_id=rubric_id)
        return GeneratedRubric.from_proto(
            await self._unary("GenerateRubric", req, timeout, "rubrics"))

    def refine_rubric(self, prompt: Prompt, candidates: Sequence[CandidateLike], *,
                      rubric: RubricLike = None, rubric_set: str = "", rubric_id: str = "",
                      refine: RefineLike = None, proposer: ProposerLike = None,
                      verifier: VerifierLike = None, deadline_seconds: float = 0,
                      timeout: Optional[float] = None) -> AsyncRefineStream:
        """As RewardClient.refine_rubric, returning an AsyncRefineStream
        (`async for event in client.refine_rubric(...)`). Not a coroutine:
        call it from the event loop; bad arguments raise at once."""
        req = refine_request(prompt, candidates, rubric=rubric, rubric_set=rubric_set,
                             rubric_id=rubric_id, refine=refine, proposer=proposer,
                             verifier=verifier, deadline_seconds=deadline_seconds)
        endpoint = self._set().pick()
        call = endpoint.rubrics.RefineRubric(req, timeout=timeout, metadata=self.options.metadata(),
                                             wait_for_ready=self.options.wait_for_ready)
        return AsyncRefineStream(call, endpoint.target)

    async def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        md = self.options.metadata()

        async def call(endpoint: _channels.Endpoint, left: float) -> Any:
            return await endpoint.health.Check(health_pb2.HealthCheckRequest(service=service),
                                               timeout=left, metadata=md,
                                               wait_for_ready=self.options.wait_for_ready)

        r = await self._retrying(call, timeout)
        return _SERVING_STATUS.Name(r.status)

    async def close(self) -> None:
        """Closes the channels of this process's current loop."""
        s = self._channels.current()
        self._channels.reset()
        if s is not None and s.owner is asyncio.get_running_loop():
            for e in s.endpoints:
                await e.channel.close()

    async def __aenter__(self) -> "AsyncRewardClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

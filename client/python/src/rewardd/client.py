"""RewardClient: the blocking Python client of rewardd (reward.v1.RewardService
and reward.v1.RubricService).

    from rewardd import RewardClient
    client = RewardClient("127.0.0.1:50051", deadline=120)
    r = client.grade("Answer: 80", rubric_set="demo", rubric_id="arith-1")
    if r.valid:
        use(r.reward)
    else:
        skip(r.invalid_reason)   # never a reward

Calls carry a deadline (retries included) and the bearer token; calls that
fail with UNAVAILABLE are retried with backoff on the next channel. Channels
open on first use in each process, so a client may be created before a fork
or pickled into a worker (pickling drops the channels). Errors are
RewardError with the server's code and message.

Thread-safety: every method may be called from any number of threads.
"""

import concurrent.futures
import time
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

import grpc

from rewardd import _channels
from rewardd._base import ClientBase
from rewardd._stubs import health_pb2, reward_pb2
from rewardd.errors import RewardError
from rewardd.refine_stream import RefineStream
from rewardd.requests import (Group, GroupLike, OptionsLike, Prompt, Request, RequestLike,
                              group_proto, request_proto, saturated_request)
from rewardd.results import GradeResult, GroupResult, Rubric, RubricSetInfo, SaturatedRubric
from rewardd.rubric_requests import (CandidateLike, ProposerLike, RefineLike, RubricLike,
                                     VerifierLike, generate_request, refine_request)
from rewardd.rubric_results import GeneratedRubric

T = TypeVar("T")
R = TypeVar("R")

_SERVING_STATUS = health_pb2.HealthCheckResponse.ServingStatus


def run_retrying(client: ClientBase, call: Callable[[_channels.Endpoint, float], T],
                 timeout: Optional[float]) -> T:
    """Runs `call(endpoint, seconds_left)` with the retry policy (blocking)."""
    options, channels = client.options, client._channels
    deadline = time.monotonic() + (timeout if timeout is not None else options.deadline)
    waits = _channels.backoffs(options)
    attempt = 0
    while True:
        attempt += 1
        channel_set = channels.get()
        endpoint = channel_set.pick()
        left = deadline - time.monotonic()
        if left <= 0:
            raise RewardError(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded before attempt %d" % attempt,
                              attempts=attempt - 1, target=endpoint.target)
        try:
            return call(endpoint, left)
        except grpc.RpcError as e:
            if not client._retryable(e, attempt):
                raise RewardError.from_rpc_error(e, attempts=attempt, target=endpoint.target) from None
            wait = next(waits)
            channel_set.mark_failed(endpoint, max(wait, options.initial_backoff))
            time.sleep(max(0.0, min(wait, deadline - time.monotonic())))


def _map_bounded(fn: Callable[[T], R], items: Sequence[T], concurrency: int,
                 return_exceptions: bool) -> List[Union[R, BaseException]]:
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1, got %r" % (concurrency,))
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        out: List[Union[R, BaseException]] = []
        for f in futures:
            try:
                out.append(f.result())
            except RewardError as e:
                if not return_exceptions:
                    for g in futures:
                        g.cancel()
                    raise
                out.append(e)
        return out


class RewardClient(ClientBase):
    """Blocking client; see the module docstring."""

    def _unary(self, method: str, request: Any, timeout: Optional[float],
               service: str = "reward") -> Any:
        md = self.options.metadata()
        wfr = self.options.wait_for_ready

        def call(endpoint: _channels.Endpoint, left: float) -> Any:
            return getattr(getattr(endpoint, service), method)(request, timeout=left, metadata=md,
                                                               wait_for_ready=wfr)

        return run_retrying(self, call, timeout)

    def grade(self, response: str, *, rubric_set: str = "", rubric_id: str = "",
              rubric: Optional[Mapping[str, Any]] = None, prompt: Prompt = None,
              options: OptionsLike = None, labels: Optional[Mapping[str, str]] = None,
              request_id: str = "", timeout: Optional[float] = None) -> GradeResult:
        """Grades one response (see rewardd.Request for the fields)."""
        req = Request(response, rubric_set=rubric_set, rubric_id=rubric_id, rubric=rubric, prompt=prompt,
                      options=options, labels=labels, request_id=request_id)
        return self.grade_request(req, timeout=timeout)

    def grade_request(self, request: RequestLike, *, timeout: Optional[float] = None) -> GradeResult:
        return GradeResult.from_proto(self._unary("Grade", request_proto(request), timeout, "grade"))

    def grade_group(self, responses: Sequence[str], *, rubric_set: str = "", rubric_id: str = "",
                    rubric: Optional[Mapping[str, Any]] = None, prompt: Prompt = None,
                    options: OptionsLike = None, labels: Optional[Mapping[str, str]] = None,
                    request_id: str = "", timeout: Optional[float] = None) -> GroupResult:
        """Grades N responses to one prompt (a GRPO group); results in order."""
        group = Group(responses, rubric_set=rubric_set, rubric_id=rubric_id, rubric=rubric,
                      prompt=prompt, options=options, labels=labels, request_id=request_id)
        return self.grade_group_request(group, timeout=timeout)

    def grade_group_request(self, group: GroupLike, *, timeout: Optional[float] = None) -> GroupResult:
        return GroupResult.from_proto(
            self._unary("GradeGroup", group_proto(group), timeout, "grade"))

    def grade_many(self, requests: Sequence[RequestLike], *, concurrency: int = 32,
                   return_exceptions: bool = False,
                   timeout: Optional[float] = None) -> List[Any]:
        """Grades requests with at most `concurrency` calls in flight; results
        in request order. A failed call raises its RewardError, or with
        `return_exceptions` takes its place in the list."""
        protos = [request_proto(r) for r in requests]
        return _map_bounded(lambda r: GradeResult.from_proto(
                                self._unary("Grade", r, timeout, "grade")),
                            protos, concurrency, return_exceptions)

    def grade_groups(self, groups: Sequence[GroupLike], *, concurrency: int = 8,
                     return_exceptions: bool = False,
                     timeout: Optional[float] = None) -> List[Any]:
        """grade_group over many groups, `concurrency` at once, in order."""
        protos = [group_proto(g) for g in groups]
        return _map_bounded(lambda g: GroupResult.from_proto(
                                self._unary("GradeGroup", g, timeout, "grade")),
                            protos, concurrency, return_exceptions)

    def list_rubric_sets(self, *, timeout: Optional[float] = None) -> List[RubricSetInfo]:
        r = self._unary("ListRubricSets", reward_pb2.ListRubricSetsRequest(), timeout)
        return [RubricSetInfo.from_proto(s) for s in r.sets]

    def get_rubric(self, rubric_set: str, rubric_id: str, *,
                   timeout: Optional[float] = None) -> Rubric:
        r = self._unary("GetRubric", reward_pb2.GetRubricRequest(rubric_set=rubric_set,
                                                                  rubric_id=rubric_id), timeout)
        return Rubric.from_proto(r)

    def list_saturated_rubrics(self, rubric_set: str = "", *, limit: int = 0,
                               timeout: Optional[float] = None) -> Tuple[SaturatedRubric, ...]:
        """The rubrics whose GradeGroup calls saturated most recently (two or
        more valid responses tied at the maximum reward), highest ranking
        score first. `rubric_set`: only that set ("_inline" for inline
        rubrics; "" = all). `limit`: at most this many (0 = the server's
        default, 20; the server caps it at 1000)."""
        r = self._unary("ListSaturatedRubrics", saturated_request(rubric_set, limit), timeout)
        return tuple(SaturatedRubric.from_proto(x) for x in r.rubrics)

    def generate_rubric(self, prompt: Prompt, *,
                        reference_responses: Optional[Sequence[str]] = None,
                        proposer: ProposerLike = None, rubric_id: str = "",
                        timeout: Optional[float] = None) -> GeneratedRubric:
        """Asks the server's proposer for an initial rubric for `prompt`
        (text or chat messages). `proposer`: a proposer name, or
        ProposerOptions / a dict of its fields. An unusable answer raises
        RewardError ABORTED."""
        req = generate_request(prompt, reference_responses=reference_responses,
                               proposer=proposer, rubric_id=rubric_id)
        return GeneratedRubric.from_proto(self._unary("GenerateRubric", req, timeout, "rubrics"))

    def refine_rubric(self, prompt: Prompt, candidates: Sequence[CandidateLike], *,
                      rubric: RubricLike = None, rubric_set: str = "", rubric_id: str = "",
                      refine: RefineLike = None, proposer: ProposerLike = None,
                      verifier: VerifierLike = None, deadline_seconds: float = 0,
                      timeout: Optional[float] = None) -> RefineStream:
        """Refines a rubric by Refinement-through-Differentiation over
        `candidates` (2 to 64 response texts, (text, source) pairs or dicts).

        The starting rubric is `rubric` (inline: a Rubric or a proto JSON
        dict), or `rubric_set` + `rubric_id`, or neither (one is generated
        first). `refine`: RefineOptions or a dict; `proposer`: a name,
        ProposerOptions or a dict; `verifier`: a judge name, GradeOptions or
        a dict; `deadline_seconds`: the server's deadline for the whole
        refinement (0 = its default). `timeout` bounds the call on the
        client (None: none). Returns a RefineStream of events (see
        rewardd.refine_stream); bad arguments raise before anything is sent.
        """
        req = refine_request(prompt, candidates, rubric=rubric, rubric_set=rubric_set,
                             rubric_id=rubric_id, refine=refine, proposer=proposer,
                             verifier=verifier, deadline_seconds=deadline_seconds)
        endpoint = self._channels.get().pick()
        call = endpoint.rubrics.RefineRubric(req, timeout=timeout, metadata=self.options.metadata(),
                                             wait_for_ready=self.options.wait_for_ready)
        return RefineStream(call, endpoint.target)

    def health(self, service: str = "", *, timeout: Optional[float] = None) -> str:
        """grpc.health.v1 status: "SERVING", "NOT_SERVING", ... ("" = the
        whole server, "reward.v1.RewardService" = grading). An unknown
        service raises RewardError NOT_FOUND."""
        md = self.options.metadata()

        def call(endpoint: _channels.Endpoint, left: float) -> Any:
            return endpoint.health.Check(health_pb2.HealthCheckRequest(service=service),
                                         timeout=left, metadata=md,
                                         wait_for_ready=self.options.wait_for_ready)

        r = run_retrying(self, call, timeout)
        return _SERVING_STATUS.Name(r.status)

    def close(self) -> None:
        """Closes this process's channels (a later call opens new ones)."""
        s = self._channels.current()
        self._channels.reset()
        if s is not None:
            for e in s.endpoints:
                e.channel.close()

    def __enter__(self) -> "RewardClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""Per-process channel sets and the retry schedule shared by both clients.

Channels are created lazily, in the process (and, for grpc.aio, the event
loop) that makes the call: a client built before a fork, or unpickled in a
Ray actor or a process-pool worker, opens its own channels on first use and
never touches the parent's. Calls rotate over the channels, preferring those
that have not failed with UNAVAILABLE recently, so a retry moves to another
replica.

Thread-safety: ChannelSet.pick / mark_failed may be called from any thread.
"""

import itertools
import os
import random
import threading
import time
from typing import Any, Callable, Iterator, List, Optional

from rewardd.options import ClientOptions, resolve_targets

# Channels of a parent process, found stale in a forked child. They are kept
# referenced, never closed or collected in the child: tearing them down there
# would touch gRPC state that belongs to the parent.
_ABANDONED: List[Any] = []


class Endpoint:
    """One channel and its stubs."""

    def __init__(self, target: str, channel: Any, reward_stub: Any, health_stub: Any,
                 rubrics_stub: Any = None, grade_stub: Any = None) -> None:
        self.target = target
        self.channel = channel
        self.reward = reward_stub
        self.health = health_stub
        #: reward.v1.RubricService (rubric generation and refinement).
        self.rubrics = rubrics_stub
        #: Grade and GradeGroup answering _lazy_proto messages (criteria
        #: parsed on first use); falls back to `reward` when not given.
        self.grade = grade_stub if grade_stub is not None else reward_stub
        self.failed_until = 0.0


class ChannelSet:
    """The endpoints of one process (and event loop, for grpc.aio)."""

    def __init__(self, endpoints: List[Endpoint], owner: Any) -> None:
        self.endpoints = endpoints
        self.pid = os.getpid()
        self.owner = owner  # the event loop for grpc.aio, None otherwise
        self._next = itertools.count()

    def pick(self) -> Endpoint:
        """The next endpoint, skipping those that failed recently unless all did."""
        n = len(self.endpoints)
        start = next(self._next)
        if n == 1:
            return self.endpoints[0]
        now = time.monotonic()
        for i in range(n):
            e = self.endpoints[(start + i) % n]
            if e.failed_until <= now:
                return e
        return self.endpoints[start % n]

    def mark_failed(self, endpoint: Endpoint, seconds: float) -> None:
        endpoint.failed_until = time.monotonic() + seconds


class LazyChannels:
    """Creates a ChannelSet on first use in each process (and owner)."""

    def __init__(self, options: ClientOptions, make_endpoint: Callable[[str], Endpoint]) -> None:
        self._options = options
        self._make_endpoint = make_endpoint
        self._set: Optional[ChannelSet] = None
        self._lock = threading.Lock()
        self._lock_pid = os.getpid()

    def get(self, owner: Any = None) -> ChannelSet:
        s = self._set
        pid = os.getpid()
        if s is not None and s.pid == pid and s.owner is owner:
            return s
        if self._lock_pid != pid:  # forked: the parent's lock may be held
            self._lock = threading.Lock()
            self._lock_pid = pid
        with self._lock:
            s = self._set
            if s is not None and s.pid == pid and s.owner is owner:
                return s
            if s is not None and s.pid != pid:
                _ABANDONED.append(s)  # a parent's: never torn down here
            endpoints = [self._make_endpoint(t) for t in resolve_targets(self._options.target)]
            self._set = ChannelSet(endpoints, owner)
            return self._set

    def current(self) -> Optional[ChannelSet]:
        """This process's set, if it was created (for close())."""
        s = self._set
        return s if s is not None and s.pid == os.getpid() else None

    def reset(self) -> None:
        self._set = None


def backoffs(options: ClientOptions) -> Iterator[float]:
    """Waits before retries 1, 2, ...: random in [0, b] (gRPC's jitter)."""
    b = options.initial_backoff
    while True:
        yield random.uniform(0, b)
        b = min(b * options.backoff_multiplier, options.max_backoff)

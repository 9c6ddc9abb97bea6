#!/usr/bin/python3
"""python-client-bench: responses/s of the Python AsyncRewardClient.

The Python side of the "clients" scenario (bench/scenario_clients.py): the
same GradeGroupRequests reward-bench sends (written by `reward-bench
--write_requests`), sent through the user-facing API
(`AsyncRewardClient.grade_group_request`, results converted to GroupResult),
closed loop with --concurrency calls in flight, for --duration_s after
--warmup_s. Prints one JSON object like reward-bench's --json_out:

  PYTHONPATH=build/python /usr/bin/python3 bench/python_client_bench.py \
      --target=127.0.0.1:50051 --requests=groups.jsonl --concurrency=8

--mode=raw / raw_lazy / transport measure what the library stands on
(see _RawStub): how much of the client's cost is grpc.aio's and protobuf's.

A failed call is counted (and its status kept), never retried silently: the
client's own retry policy is off so the figure is the server's and the
client's, not the retry loop's.
"""

import argparse
import asyncio
import collections
import json
import os
import sys
import time

import grpc
from google.protobuf import json_format

import rewardd
from rewardd._stubs import reward_pb2


def load_groups(path):
    """The GradeGroupRequests of `path`, one proto JSON object a line."""
    groups = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    groups.append(json_format.Parse(line, reward_pb2.GradeGroupRequest()))
                except json_format.ParseError as e:
                    sys.exit("%s line %d: %s" % (path, n, e))
    if not groups:
        sys.exit("%s has no requests" % path)
    return groups


class _RawStub:
    """grpc.aio's own unary call with no client code around it, the floors
    the Python client's figure is set against (--mode):

      raw        the generated stub (full parse of the answer)
      raw_lazy   the same call parsed as the client parses it (criteria
                 left as bytes, rewardd._lazy_proto), no GroupResult
      transport  request bytes serialized once per request and reused,
                 answer bytes not parsed: grpc.aio and asyncio alone
    """

    class _Unparsed:
        """What `transport` returns: the item count, nothing parsed."""
        results = ()

    def __init__(self, target, mode):
        import grpc.aio
        from rewardd import _lazy_proto
        from rewardd._stubs import reward_pb2_grpc
        self._channel = grpc.aio.insecure_channel(target)
        if mode == "raw":
            self._call = reward_pb2_grpc.RewardServiceStub(self._channel).GradeGroup
        elif mode == "raw_lazy":
            self._call = _lazy_proto.LazyGradeStub(self._channel).GradeGroup
        else:
            self._call = self._channel.unary_unary("/reward.v1.RewardService/GradeGroup")
            self._bytes = {}
        self._mode = mode

    async def grade_group_request(self, group, timeout):
        if self._mode != "transport":
            return await self._call(group, timeout=timeout)
        data = self._bytes.get(id(group))
        if data is None:
            data = self._bytes[id(group)] = group.SerializeToString()
        await self._call(data, timeout=timeout)
        unparsed = self._Unparsed()
        unparsed.results = [_VALID] * len(group.responses)
        return unparsed

    async def close(self):
        await self._channel.close()


class _Valid:
    valid = True
    criteria = ()


_VALID = _Valid()


async def run(args, groups):
    if args.raw:
        args.mode = "raw"
    if args.mode != "client":
        client = _RawStub(args.target, args.mode)
    else:
        client = rewardd.AsyncRewardClient(args.target, max_attempts=1)
    counts = collections.Counter()
    errors = collections.Counter()
    next_index = [0]
    phase = {"measuring": False, "stop": False}

    async def worker():
        while not phase["stop"]:
            g = groups[next_index[0] % len(groups)]
            next_index[0] += 1
            try:
                result = await client.grade_group_request(g, timeout=args.deadline_s)
            except (rewardd.RewardError, grpc.RpcError) as e:
                if phase["measuring"]:
                    errors[str(e.code() if callable(e.code) else e.code)] += 1
                continue
            if phase["measuring"]:
                counts["calls"] += 1
                counts["items"] += len(result.results)
                counts["invalid_items"] += sum(1 for r in result.results if not r.valid)
                if args.read_verdicts:  # what a trainer that logs verdicts pays
                    counts["met"] += sum(sum(1 for c in r.criteria if c.verdict in ("MET", 1))
                                         for r in result.results)

    tasks = [asyncio.ensure_future(worker()) for _ in range(args.concurrency)]
    await asyncio.sleep(args.warmup_s)
    phase["measuring"] = True
    cpu0, t0 = time.process_time(), time.monotonic()
    await asyncio.sleep(args.duration_s)
    phase["measuring"] = False
    elapsed, cpu = time.monotonic() - t0, time.process_time() - cpu0
    phase["stop"] = True
    await asyncio.gather(*tasks)
    await client.close()
    return {
        "label": args.label,
        "calls": counts["calls"],
        "items": counts["items"],
        "invalid_items": counts["invalid_items"],
        "failed_total": sum(errors.values()),
        "errors": dict(errors),
        "seconds": elapsed,
        "calls_per_second": counts["calls"] / elapsed,
        "items_per_second": counts["items"] / elapsed,
        "client_cpu_seconds": cpu,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="rewardd host:port")
    ap.add_argument("--requests", required=True,
                    help="GradeGroupRequest proto JSON lines (reward-bench --write_requests)")
    ap.add_argument("--concurrency", type=int, default=8, help="calls in flight")
    ap.add_argument("--warmup_s", type=float, default=0.5)
    ap.add_argument("--duration_s", type=float, default=3)
    ap.add_argument("--deadline_s", type=float, default=30)
    ap.add_argument("--label", default="python-aio")
    ap.add_argument("--mode", default="client",
                    choices=("client", "raw", "raw_lazy", "transport"),
                    help="client: AsyncRewardClient; the others: grpc.aio without the "
                         "library (see _RawStub)")
    ap.add_argument("--raw", action="store_true", help="the same as --mode=raw")
    ap.add_argument("--read_verdicts", action="store_true",
                    help="also read every criterion verdict of every result")
    ap.add_argument("--json_out", help="also write the result here")
    args = ap.parse_args()
    if args.concurrency < 1:
        sys.exit("--concurrency must be at least 1")
    if args.read_verdicts and args.mode in ("raw_lazy", "transport"):
        sys.exit("--read_verdicts needs --mode=client or raw (%s parses no verdicts)" % args.mode)
    result = asyncio.run(run(args, load_groups(args.requests)))
    text = json.dumps(result)
    print(text)
    if args.json_out:
        with open(args.json_out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.json_out + ".tmp", args.json_out)


if __name__ == "__main__":
    main()

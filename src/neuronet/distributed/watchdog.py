"""Waiting for a collective, with a stall watchdog that names the rank holding everyone up.

Every neuronet collective is started non-blocking and finished here: ``wait_until`` drives MPI
progress (``Test``), answers other ranks' questions, and after ``timeout`` seconds asks every
other rank what it is doing, then raises ``DistributedTimeoutError`` naming

- this rank and what it waits for (a gradient bucket of a step and its parameters, a barrier,
  an all-reduce, a broadcast) and the collective's sequence number;
- for each other rank: what it is waiting in, or that it did not answer -- it never reached a
  neuronet collective (busy or stuck in its own code or its data loader, or dead).

The questions travel on a communicator of their own (``group.control``), so they never match
the collectives they ask about. A rank answers only from inside a wait, which is exactly where a
rank that is not to blame is. The uncaught error then aborts the whole job (see ``init``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from neuronet.distributed.errors import DistributedTimeoutError

_QUERY = 7301
_REPLY = 7302
_SERVE_EVERY = 0.01  # seconds between looks for questions from other ranks
_SPIN = 1.0  # seconds of busy polling before a wait starts sleeping between polls
KINDS = ("nothing", "barrier", "all_reduce", "broadcast", "gradient bucket")


@dataclass
class Activity:
    """What this rank is waiting in: ``kind`` (one of KINDS), the collective's sequence number
    on its communicator, and for gradient buckets the step and bucket index."""

    kind: str
    seq: int
    step: int = -1
    bucket: int = -1
    detail: str = ""  # local only (parameter names), not sent

    def encode(self, waited: float) -> np.ndarray:
        code = KINDS.index(self.kind)
        return np.array([code, self.seq, self.step, self.bucket, int(waited * 1e3)], np.int64)

    def describe(self) -> str:
        if self.kind == "gradient bucket":
            text = f"gradient bucket {self.bucket} of step {self.step}"
        else:
            text = self.kind
        text += f" (collective #{self.seq})"
        return text + (f" [{self.detail}]" if self.detail else "")


def _decode(row: np.ndarray) -> Activity:
    return Activity(KINDS[int(row[0])], int(row[1]), int(row[2]), int(row[3]))


class Watch:
    """One wait: serves questions while waiting and raises the stall error after ``timeout``."""

    def __init__(self, group, activity: Activity, timeout: float):
        self.group = group
        self.activity = activity
        self.timeout = timeout
        self.start = time.monotonic()
        self.next_serve = self.start + _SERVE_EVERY

    def tick(self) -> None:
        """Call often while waiting: answers questions; raises once the timeout has passed.
        The first second it only polls (as MPI's own waits spin: with progress='test' the
        polling is what moves the data); after that it sleeps 1 ms between polls, so a rank
        that waits long for a slow or stuck peer leaves the core to it and to the machine."""
        now = time.monotonic()
        if now - self.start > _SPIN:
            time.sleep(0.001)
        if now < self.next_serve:
            return
        self.next_serve = now + _SERVE_EVERY
        serve(self.group, self.activity, now - self.start)
        if now - self.start > self.timeout:
            raise stall_error(self.group, self.activity, now - self.start, self.timeout)


def wait_until(group, done, activity: Activity, timeout: float) -> None:
    """Call ``done()`` until it returns True, watching for a stall (see the module docstring)."""
    watch = Watch(group, activity, timeout)
    while not done():
        watch.tick()


def wait_requests(group, requests: list, activity: Activity, timeout: float) -> None:
    """Complete MPI ``requests``, polling with ``Testall`` (which drives MPI's progress)."""
    test = group.MPI.Request.Testall
    wait_until(group, lambda: test(requests), activity, timeout)


def serve(group, activity: Activity, waited: float) -> None:
    """Answer every pending question from another rank with what this rank waits in."""
    MPI = group.MPI
    control = group.control
    status = MPI.Status()
    while control.Iprobe(source=MPI.ANY_SOURCE, tag=_QUERY, status=status):
        asker = np.empty(1, np.int64)
        control.Recv(asker, source=status.Get_source(), tag=_QUERY)
        control.Send(activity.encode(waited), dest=int(asker[0]), tag=_REPLY)


def ask_peers(group, activity: Activity, grace: float) -> dict:
    """{rank: Activity or None (no answer within ``grace`` seconds)} for every other rank."""
    control = group.control
    me = np.array([group.rank], np.int64)
    peers = [r for r in range(group.size) if r != group.rank]
    sends = [control.Isend(me, dest=r, tag=_QUERY) for r in peers]
    replies = {r: np.empty(5, np.int64) for r in peers}
    recvs = {r: control.Irecv(replies[r], source=r, tag=_REPLY) for r in peers}
    answered = {}
    deadline = time.monotonic() + grace
    while len(answered) < len(peers) and time.monotonic() < deadline:
        serve(group, activity, 0.0)
        for r, req in recvs.items():
            if r not in answered and req.Test():
                answered[r] = _decode(replies[r])
        time.sleep(0.001)
    del sends  # never waited for: the job is about to stop
    return {r: answered.get(r) for r in peers}


def stall_error(group, activity: Activity, waited: float, timeout: float):
    grace = min(2.0, max(0.2, timeout / 4))
    peers = ask_peers(group, activity, grace)
    lines = []
    stalled = []
    for r, theirs in peers.items():
        if theirs is None:
            stalled.append(r)
            lines.append(
                f"  rank {r}: no answer within {grace:.1f} s -- it has not reached a neuronet "
                "collective (busy or stuck in its own code or data loading, or dead)"
            )
        elif theirs.kind == activity.kind and theirs.seq == activity.seq:
            lines.append(f"  rank {r}: waiting in the same {theirs.describe()}")
        else:
            stalled.append(r)
            lines.append(f"  rank {r}: waiting in a different collective, {theirs.describe()}")
    who = ", ".join(f"rank {r}" for r in stalled) or "none identified"
    return DistributedTimeoutError(
        f"neuronet.distributed: rank {group.rank} waited {waited:.1f} s (timeout {timeout:g} s) "
        f"for {activity.describe()}; ranks that have not reached it: {who}.\n"
        + "\n".join(lines)
        + "\n"
        "A rank that skipped a step, ran a different number of batches or built a different "
        "model stalls the others. If a step legitimately takes longer, raise the timeout: "
        "neuronet.distributed.init(timeout=...) or DistributedDataParallel(..., timeout=...)"
    )

"""The process group: MPI's world of ranks, and the collectives neuronet needs on it.

``init()`` starts MPI (through mpi4py) and duplicates ``MPI.COMM_WORLD`` twice: one
communicator for these collectives, one for the stall watchdog's questions (see
``watchdog.py``). Every collective here is MPI's upper-case, buffer-based call (``Iallreduce``,
``Ibcast``, ``Ibarrier``) on NumPy arrays -- never the pickling lower-case ones -- started
non-blocking and completed by the watchdog's wait, so a rank that never arrives turns into an
error naming it after ``timeout`` seconds instead of a hang.

After ``init()`` an uncaught exception on any rank prints its traceback and aborts every rank
(``MPI_Abort``), as ``python -m mpi4py`` does: otherwise the other ranks would wait for the dead
one forever.

Names follow ``torch.distributed`` (``get_rank``, ``get_world_size``, ``init_process_group``
are aliases), and work the same way: ``rank()`` before ``init()`` is an error.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.distributed._mpi import load_mpi
from neuronet.distributed.errors import DistributedError
from neuronet.distributed.watchdog import Activity, wait_requests

__all__ = [
    "ReduceOp",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_parameters",
    "get_rank",
    "get_world_size",
    "init",
    "init_process_group",
    "is_initialized",
    "is_main_process",
    "launched_world_size",
    "rank",
    "world_size",
]

DEFAULT_TIMEOUT = 600.0  # seconds; a stalled collective becomes an error after this


class ReduceOp:
    """Reduction operations for ``all_reduce`` (strings work too: 'sum', 'mean', ...)."""

    SUM = "sum"
    AVG = "mean"
    MEAN = "mean"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _Group:
    """The state of ``init()``: communicators, this rank, the timeout, collective counters."""

    def __init__(self):
        self.MPI = None
        self.comm = None  # the collectives of this module
        self.control = None  # the watchdog's questions and answers
        self.rank = 0
        self.size = 1
        self.timeout = DEFAULT_TIMEOUT
        self.seq = 0  # collectives started on ``comm`` by this rank

    def next_activity(self, kind: str) -> Activity:
        self.seq += 1
        return Activity(kind, self.seq)


GROUP = _Group()


def launched_world_size() -> int:
    """How many ranks the launcher started, from its environment (1 outside mpiexec).

    Reads MPICH/Hydra's ``PMI_SIZE``, Open MPI's ``OMPI_COMM_WORLD_SIZE`` and PMIx's
    ``PMIX_SIZE``, without starting MPI.
    """
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"):
        value = os.environ.get(var)
        if value and value.isdigit():
            return int(value)
    return 1


def init(timeout: float | None = None, backend: str = "mpi") -> None:
    """Start MPI and make this process a rank of the group (once; later calls only update
    ``timeout``).

    Args:
        timeout: seconds a collective may wait before the stall watchdog raises an error naming
            the ranks that did not arrive (default 600).
        backend: only 'mpi' (accepted for ``torch.distributed.init_process_group`` habits).

    Launch the script with ``mpiexec -n N python script.py`` (see docs/distributed.md); run
    without mpiexec it is a group of one.
    """
    if backend != "mpi":
        raise ValueError(
            f"neuronet.distributed.init: backend {backend!r} is not available; neuronet "
            "communicates over MPI only (backend='mpi')"
        )
    if timeout is not None:
        if not timeout > 0:
            raise ValueError(f"neuronet.distributed.init: timeout must be > 0 s, got {timeout!r}")
        GROUP.timeout = float(timeout)
    if GROUP.comm is not None:
        return
    MPI = load_mpi()
    world = MPI.COMM_WORLD
    GROUP.MPI = MPI
    GROUP.comm = world.Dup()
    GROUP.control = world.Dup()
    GROUP.rank = world.Get_rank()
    GROUP.size = world.Get_size()
    if GROUP.size > 1:
        _abort_on_uncaught_exception(MPI)


init_process_group = init


def _abort_on_uncaught_exception(MPI) -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        import socket

        previous(exc_type, exc, tb)
        print(
            f"neuronet.distributed: rank {GROUP.rank} of {GROUP.size} (host "
            f"{socket.gethostname()}) stopped on {exc_type.__name__}; aborting all ranks",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        # The launcher forwards our output asynchronously and MPI_Abort tears the job down at
        # once: give it a moment, or the traceback above is lost on the way to the terminal.
        time.sleep(0.5)
        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def is_initialized() -> bool:
    """True after ``init()``."""
    return GROUP.comm is not None


def _require(what: str) -> _Group:
    if GROUP.comm is None:
        raise DistributedError(
            f"neuronet.distributed.{what}: the process group is not initialized; call "
            "neuronet.distributed.init() first (and launch with mpiexec -n N)"
        )
    return GROUP


def rank() -> int:
    """This process's rank, 0 .. world_size() - 1."""
    return _require("rank()").rank


def world_size() -> int:
    """The number of ranks."""
    return _require("world_size()").size


get_rank = rank
get_world_size = world_size


def is_main_process() -> bool:
    """True on rank 0, and in a process that is not part of a group: the rank that prints,
    logs, plots and writes files."""
    return GROUP.comm is None or GROUP.rank == 0


def barrier() -> None:
    """Wait until every rank has called ``barrier()``."""
    group = _require("barrier()")
    request = group.comm.Ibarrier()
    wait_requests(group, [request], group.next_activity("barrier"), group.timeout)


def _buffer(tensor, what: str) -> np.ndarray:
    array = tensor.array if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"neuronet.distributed.{what}: expected a Tensor or a NumPy array, got "
            f"{type(tensor).__name__}; wrap numbers as np.array([...])"
        )
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(
            f"neuronet.distributed.{what}: the array (shape {array.shape}) must be C-contiguous "
            "and writeable to be reduced in place; pass np.ascontiguousarray(x) (or x.copy())"
        )
    return array


_OPS = {"sum": "SUM", "mean": "SUM", "product": "PROD", "prod": "PROD", "min": "MIN", "max": "MAX"}


def all_reduce(tensor, op: str = ReduceOp.SUM):
    """Reduce ``tensor`` over all ranks, in place, with ``op`` ('sum', 'mean', 'product', 'min',
    'max' or a ``ReduceOp``); every rank gets the result. Returns ``tensor``.

    One ``MPI_Iallreduce`` on the array's own memory (``MPI_IN_PLACE``): no copy, no pickle.
    'mean' is the sum divided by the world size.
    """
    group = _require("all_reduce()")
    key = str(op).lower()
    if key not in _OPS:
        raise ValueError(
            f"neuronet.distributed.all_reduce: unknown op {op!r}; use one of "
            f"{sorted(set(_OPS) - {'prod'})} or a ReduceOp"
        )
    array = _buffer(tensor, "all_reduce()")
    MPI = group.MPI
    request = group.comm.Iallreduce(MPI.IN_PLACE, array, op=getattr(MPI, _OPS[key]))
    wait_requests(group, [request], group.next_activity("all_reduce"), group.timeout)
    if key == "mean":
        if array.dtype.kind != "f":
            raise TypeError(
                f"neuronet.distributed.all_reduce: op 'mean' needs a floating-point array, got "
                f"{array.dtype}; use 'sum' and divide"
            )
        array /= group.size
    return tensor


def broadcast(tensor, src: int = 0):
    """Copy ``tensor`` from rank ``src`` into the same tensor on every rank, in place."""
    group = _require("broadcast()")
    array = _buffer(tensor, "broadcast()")
    request = group.comm.Ibcast(array, root=src)
    wait_requests(group, [request], group.next_activity("broadcast"), group.timeout)
    return tensor


def layout_signature(rows: list[str]) -> np.ndarray:
    """One int64 per description row (crc32), for comparing layouts across ranks."""
    import zlib

    return np.array([zlib.crc32(r.encode()) for r in rows], np.int64)


def check_same_everywhere(what: str, rows: list[str], group: _Group) -> None:
    """Raise on every rank if any rank's ``rows`` differ from rank 0's, naming the first
    differing rank and row (gathered as crc32 signatures: fixed-size int64, no pickle)."""
    counts = np.zeros(group.size, np.int64)
    mine = np.array([len(rows)], np.int64)
    _wait_all(group, group.comm.Iallgather(mine, counts), "all_reduce")
    width = int(counts.max())
    sig = np.full(width, -1, np.int64)
    sig[: len(rows)] = layout_signature(rows)
    table = np.empty((group.size, width), np.int64)
    _wait_all(group, group.comm.Iallgather(sig, table), "all_reduce")
    for r in range(1, group.size):
        diff = np.nonzero(table[r] != table[0])[0]
        if diff.size:
            i = int(diff[0])
            rank0, theirs = _exchange_row(group, rows, i, r)
            raise DistributedError(
                f"{what} differs between ranks: at entry {i} rank {r} has {theirs} where rank 0 "
                f"has {rank0} ({int(counts[r])} vs {int(counts[0])} entries). Every rank must "
                "build the same model (same layers, shapes, dtypes and order)"
            )


def _exchange_row(group, rows: list[str], i: int, other: int) -> tuple[str, str]:
    """Row ``i`` as rank 0 and rank ``other`` have it (fixed-size UTF-8, no pickle)."""
    width = 256
    mine = np.zeros(width, np.uint8)
    text = (rows[i] if i < len(rows) else "(nothing)").encode()[:width]
    mine[: len(text)] = np.frombuffer(text, np.uint8)
    table = np.empty((group.size, width), np.uint8)
    _wait_all(group, group.comm.Iallgather(mine, table), "all_reduce")

    def decode(r):
        return repr(bytes(table[r]).rstrip(b"\0").decode(errors="replace"))

    return decode(0), decode(other)


def _wait_all(group, request, kind: str) -> None:
    wait_requests(group, [request], group.next_activity(kind), group.timeout)


def broadcast_parameters(model, src: int = 0) -> None:
    """Copy every parameter and buffer of ``model`` from rank ``src`` to all ranks (in place).

    Arrays are packed into one buffer per dtype, so this is a few ``Ibcast`` calls however
    many tensors the model has. Raises ``DistributedError`` naming the rank and tensor if the
    ranks' models differ.
    """
    group = _require("broadcast_parameters()")
    named = list(model.named_parameters()) + list(model.named_buffers())
    rows = [f"{n} {tuple(t.array.shape)} {t.array.dtype}" for n, t in named]
    check_same_everywhere("neuronet.distributed.broadcast_parameters", rows, group)
    by_dtype: dict = {}
    for _, t in named:
        by_dtype.setdefault(t.array.dtype.str, []).append(t)
    for tensors in by_dtype.values():
        flat = np.concatenate([t.array.reshape(-1) for t in tensors])
        broadcast(flat, src)
        offset = 0
        for t in tensors:
            n = t.array.size
            if group.rank != src:
                t.array[...] = flat[offset : offset + n].reshape(t.array.shape)
                t._version += 1
            offset += n

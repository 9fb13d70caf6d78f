"""Running rank programs under ``mpiexec -n 2`` on loopback, from the tests (imported by
name: ``from mpi_runner import run_ranks``).

The programs live in ``ranks/``; each is a plain script that ``mpiexec`` starts on every rank.
They run with one BLAS thread per rank and stdin closed. The tests skip, with the reason, only
when mpi4py is not installed (CI installs the ``mpi`` extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RANKS = Path(__file__).parent / "ranks"
MPI_REASON = (
    "mpi4py not installed; install the `mpi` extra (pip install 'neuronet[mpi]': mpi4py + the "
    "mpich wheel) to run the MPI tests"
)
ONE_THREAD = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def run_ranks(script: str, *args, n: int = 2, timeout: float = 120, env=None, check=True):
    """``mpiexec -n n python ranks/<script> args``; fails the test with both outputs on error."""
    from neuronet.distributed.launch import find_mpiexec

    command = [find_mpiexec(), "-n", str(n), sys.executable, str(RANKS / script)]
    command += [str(a) for a in args]
    environment = {**os.environ, **ONE_THREAD, **(env or {})}
    proc = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited with {proc.returncode}\n--- stdout\n{proc.stdout}\n"
            f"--- stderr\n{proc.stderr}"
        )
    return proc


def need_mpi() -> None:
    """Skip the calling test, with the reason, when mpi4py is not installed."""
    pytest.importorskip("mpi4py", reason=MPI_REASON)

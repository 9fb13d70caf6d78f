"""Background data loading and MPI together: no deadlock, no crash, the same batches (a
process forked after MPI started is a known trap; worker processes must be started safely)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("mpi")


def test_prefetch_thread_with_mpi(mpirun):
    out = mpirun("loader.py", "prefetch", timeout=90).stdout
    assert "rank 0 OK loader." in out and "rank 1 OK loader." in out, out


def test_worker_processes_with_mpi(mpirun):
    out = mpirun("loader.py", "workers", timeout=90).stdout
    if "NO-WORKERS" in out:
        pytest.skip("DataLoader has no num_workers in this tree (worker processes not landed)")
    assert "rank 0 OK loader." in out and "rank 1 OK loader." in out, out

"""A rank that dies, raises or stalls ends the whole job with an error that says which rank,
within a timeout -- never a hang (ranks/failures.py; the collectives' timeout is 2 s)."""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.xdist_group("mpi")


def _run(mpirun, mode, progress="thread"):
    start = time.monotonic()
    proc = mpirun("failures.py", mode, progress, timeout=60, check=False)
    seconds = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "finished" not in proc.stdout, output
    return output, seconds


def test_a_killed_rank_stops_the_job(mpirun):
    output, seconds = _run(mpirun, "kill")
    # MPICH's launcher sees the process die and stops the job; on a loaded machine rank 0's
    # watchdog (2 s here) may fire first and name rank 1 itself
    launcher = "BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES" in output
    watchdog = "ranks that have not reached it: rank 1." in output
    assert launcher or watchdog, output
    assert seconds < 30


def test_an_exception_on_one_rank_aborts_every_rank(mpirun):
    output, seconds = _run(mpirun, "exception")
    assert "ValueError: rank 1 failed in the middle of backward" in output, output
    assert "rank 1 of 2 (host " in output and "stopped on ValueError; aborting all ranks" in output
    assert seconds < 30


@pytest.mark.parametrize("progress", ["thread", "test"])
def test_the_stall_watchdog_names_the_stalled_rank_and_bucket(mpirun, progress):
    output, seconds = _run(mpirun, "stall", progress)
    assert "DistributedTimeoutError: neuronet.distributed: rank 0 waited" in output, output
    # the bucket rank 0 waits for, with its parameters (rank 1 stopped inside step 3)
    assert re.search(
        r"\(timeout 2 s\) for gradient bucket \d of step 3 \(collective #\d+\) "
        r"\[\d parameter\(s\): [\w., ]+\]",
        output,
    ), output
    assert "ranks that have not reached it: rank 1." in output
    assert "rank 1: no answer" in output
    assert seconds < 30  # rank 1 sleeps for 60 s: the watchdog, not rank 1, ended the job


def test_uneven_steps_name_the_rank_that_went_elsewhere(mpirun):
    """Rank 1 runs fewer steps and waits in a barrier while rank 0 waits in step 3: whichever
    watchdog fires first names the other rank and both collectives."""
    output, seconds = _run(mpirun, "uneven")
    rank0_first = (
        re.search(r"rank 0 waited [\d.]+ s \(timeout 2 s\) for gradient bucket", output)
        and "ranks that have not reached it: rank 1." in output
        and "rank 1: waiting in a different collective, barrier" in output
    )
    rank1_first = (
        re.search(r"rank 1 waited [\d.]+ s \(timeout 2 s\) for barrier", output)
        and "ranks that have not reached it: rank 0." in output
        and "rank 0: waiting in a different collective, gradient bucket" in output
    )
    assert rank0_first or rank1_first, output
    assert "of step 3" in output
    assert seconds < 30

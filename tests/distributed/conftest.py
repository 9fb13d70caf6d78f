"""The ``mpirun`` fixture: ``mpirun(script, *args)`` runs ``ranks/<script>`` on 2 ranks, or
skips the test (with the reason) when mpi4py is not installed. See mpi_runner.py."""

from __future__ import annotations

import pytest
from mpi_runner import need_mpi, run_ranks


@pytest.fixture
def mpirun():
    need_mpi()
    return run_ranks

"""DistributedDataParallel and the collectives, on 2 ranks: averaged gradients, no_sync,
unused parameters, buffers, and the errors when ranks disagree (ranks/features.py)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.xdist_group("mpi")

CHECKS = [
    "collectives",
    "broadcast_parameters",
    "ddp_broadcasts_rank0_weights",
    "gradients_averaged",
    "overlap_during_backward",
    "gradient_as_bucket_view",
    "no_sync",
    "find_unused_parameters",
    "unused_parameter_error",
    "gradient_twice_error",
    "broadcast_buffers",
    "sync_batchnorm",
    "layout_mismatch",
    "order_mismatch",
    "done",
]


def test_collectives_and_ddp_behaviours_on_two_ranks(mpirun):
    out = mpirun("features.py").stdout
    passed = set(re.findall(r"rank (\d) OK (\w+)\.", out))
    missing = [(r, c) for c in CHECKS for r in "01" if (r, c) not in passed]
    assert not missing, out

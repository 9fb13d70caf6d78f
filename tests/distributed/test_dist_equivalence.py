"""Data parallelism changes nothing but speed: 2 ranks x batch b train exactly as 1 process x
batch 2b, and two identical distributed runs are bitwise equal."""

from __future__ import annotations

import numpy as np
import pytest
from mpi_runner import need_mpi, run_ranks  # noqa: E402

pytestmark = pytest.mark.xdist_group("mpi")

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def _relative_error(ours, reference):
    return float(np.max(np.abs(ours.astype(np.float64) - reference)) / np.max(np.abs(reference)))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    need_mpi()

    folder = tmp_path_factory.mktemp("equivalence")
    runs = []
    for i in range(2):
        path = folder / f"run{i}.npz"
        run_ranks("equivalence.py", path)
        runs.append(dict(np.load(path)))
    return runs


@pytest.mark.parametrize("progress", ["test", "thread"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_ranks_equal_one_process_with_twice_the_batch(two_runs, dtype, progress):
    run = two_runs[0]
    ours = run[f"{dtype}_{progress}"]
    reference = run[f"{dtype}_reference"].astype(np.float64)
    assert ours.dtype == np.dtype(dtype)
    error = _relative_error(ours, reference)
    print(f"{dtype} {progress}: relative error after 20 steps {error:.2e}")
    assert error <= TOLERANCE[dtype]
    # training moved the weights far more than the error: not two untrained models compared
    assert _relative_error(run[f"{dtype}_initial"], reference) > 1e3 * TOLERANCE[dtype]


@pytest.mark.parametrize("progress", ["test", "thread"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_two_identical_distributed_runs_are_bitwise_equal(two_runs, dtype, progress):
    first, second = two_runs
    key = f"{dtype}_{progress}"
    assert first[key].tobytes() == second[key].tobytes()

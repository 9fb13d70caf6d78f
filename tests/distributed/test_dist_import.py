"""neuronet.distributed costs nothing until used: importing it never imports mpi4py, and
without mpi4py the error names the `mpi` extra."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mpi_runner import need_mpi


def test_import_never_imports_mpi4py():
    code = (
        "import sys, neuronet, neuronet.distributed, neuronet.train\n"
        "from neuronet.train import Trainer\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_mpi4py_names_the_extra(monkeypatch):
    import neuronet.distributed as dist
    from neuronet.distributed import process_group

    if process_group.GROUP.comm is not None:
        pytest.skip("MPI already initialised in this process")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(
        ImportError, match=r"install the `mpi` extra: pip install 'neuronet\[mpi\]'"
    ):
        dist.init()
    assert not dist.is_initialized()


def test_rank_and_collectives_before_init_are_clear_errors():
    import neuronet.distributed as dist

    if dist.is_initialized():
        pytest.skip("MPI already initialised in this process")
    for call in (dist.rank, dist.world_size, dist.barrier):
        with pytest.raises(dist.DistributedError, match="not initialized; call"):
            call()
    assert dist.is_main_process()
    assert dist.get_rank is dist.rank and dist.init_process_group is dist.init


def test_bad_init_arguments():
    import neuronet.distributed as dist

    with pytest.raises(ValueError, match="backend 'nccl' is not available"):
        dist.init(backend="nccl")
    with pytest.raises(ValueError, match="timeout must be > 0 s"):
        dist.init(timeout=0)


def test_single_process_group(tmp_path):
    """Without mpiexec, init() makes a group of one: DDP is then an identity on gradients."""
    need_mpi()
    code = (
        "import numpy as np, neuronet as nt, neuronet.distributed as dist\n"
        "from neuronet import nn\n"
        "dist.init()\n"
        "assert (dist.rank(), dist.world_size()) == (0, 1)\n"
        "m = nn.Linear(3, 2); ref = nn.Linear(3, 2); ref.load_state_dict(m.state_dict())\n"
        "ddp = dist.DistributedDataParallel(m)\n"
        "x = nt.randn(4, 3)\n"
        "ddp(x).sum().backward(); ref(x).sum().backward()\n"
        "assert np.array_equal(m.weight.grad.array, ref.weight.grad.array)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"

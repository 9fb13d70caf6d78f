"""Starting ranks: where ``mpiexec`` is, and ``neuronet train --nproc N``.

The ``mpich`` wheel (the ``mpi`` extra) installs MPICH's Hydra launcher next to the Python that
installed it (``<venv>/bin/mpiexec``), so it is found without a system MPI. ``--nproc N`` runs

    mpiexec -n N <this python> -m neuronet train <the same flags, without --nproc>

with one BLAS thread per rank unless the environment already says otherwise (N ranks each
running all cores' threads would fight over them), and returns mpiexec's exit code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class LaunchError(RuntimeError):
    """mpiexec cannot be found or started."""


def find_mpiexec() -> str:
    """The ``mpiexec`` installed with this Python (the mpich wheel), else the first on PATH."""
    places = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for place in places:
        candidate = place / "mpiexec"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("mpiexec")
    if found:
        return found
    raise LaunchError(
        "mpiexec not found: install the `mpi` extra (pip install 'neuronet[mpi]'), whose mpich "
        "wheel provides it, or put an MPI installation's mpiexec on PATH"
    )


def rank_environment(nproc: int, env=None) -> dict:
    """The environment for N ranks on one machine: BLAS threads = cores // N where unset."""
    env = dict(os.environ if env is None else env)
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    for var in THREAD_VARS:
        env.setdefault(var, threads)
    return env


def mpiexec_command(nproc: int, args: list[str], hostfile=None) -> list[str]:
    """``mpiexec -n N [-f hostfile] python -m neuronet <args>`` with this interpreter."""
    command = [find_mpiexec(), "-n", str(nproc)]
    if hostfile is not None:
        command += ["-f", str(hostfile)]
    return command + [sys.executable, "-m", "neuronet", *args]


def strip_option(argv: list[str], option: str) -> list[str]:
    """``argv`` without ``option`` and its value (``--nproc 4`` or ``--nproc=4``)."""
    out = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = True
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return out


def launch(nproc: int, args: list[str], hostfile=None) -> int:
    """Run ``neuronet <args>`` as ``nproc`` MPI ranks and return the job's exit code."""
    command = mpiexec_command(nproc, args, hostfile)
    try:
        process = subprocess.Popen(command, env=rank_environment(nproc))
    except OSError as error:
        raise LaunchError(f"cannot start {command[0]}: {error}") from None
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:  # mpiexec forwards Ctrl-C to the ranks; wait for them
            continue

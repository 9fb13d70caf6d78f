"""The one place that imports mpi4py: on first use, never at ``import neuronet``.

mpi4py initialises MPI when ``mpi4py.MPI`` is first imported (asking for
``MPI_THREAD_MULTIPLE``, which the communication thread and the watchdog need) and finalises it
at interpreter exit.
"""

from __future__ import annotations

_MISSING = (
    "neuronet.distributed needs mpi4py and an MPI library; install the `mpi` extra: "
    "pip install 'neuronet[mpi]' (mpi4py plus the mpich wheel, no system packages needed)"
)


def load_mpi():
    """The ``mpi4py.MPI`` module; an ImportError naming the ``mpi`` extra when it is absent."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"{_MISSING} ({error})") from None
    return MPI


def mpi_available() -> bool:
    """True when mpi4py can be imported (without initialising MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None

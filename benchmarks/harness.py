"""Timing side by side: neuronet against PyTorch in the same process, alternating.

``compare(label, ours, theirs)`` warms both callables up, then alternates them (A B A B ...) so
machine noise hits both alike, and prints the median ms (min-max) of each and the ratio
neuronet/PyTorch. ``theirs`` may be None when torch is not installed. Only public tools
(time.perf_counter, statistics) are used.
"""

from __future__ import annotations

import os
import statistics
import sys
import time


def threads_from_argv(argv=None) -> int | None:
    """``--threads N`` from the command line, exported for BLAS; call before importing NumPy.

    OpenBLAS reads OPENBLAS_NUM_THREADS once, when NumPy loads it, so this must run first; the
    variables are inherited by the memory-measuring subprocesses too.
    """
    argv = sys.argv if argv is None else argv
    if "--threads" not in argv:
        return None
    n = int(argv[argv.index("--threads") + 1])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    return n


def torch_or_none(threads: int | None = None):
    """torch, or None when it is not installed; ``threads`` sets its intra-op thread count."""
    try:
        import torch
    except ImportError:
        return None
    if threads is None and os.environ.get("OMP_NUM_THREADS"):
        threads = int(os.environ["OMP_NUM_THREADS"])
    torch.set_num_threads(max(1, threads or torch.get_num_threads()))
    return torch


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def measure(ours, theirs=None, warmup: int = 5, repeats: int = 30) -> dict:
    """Median/min/max milliseconds per call of each, alternating between the two."""
    for _ in range(warmup):
        ours()
        if theirs is not None:
            theirs()
    a, b = [], []
    for _ in range(repeats):
        a.append(_time(ours))
        if theirs is not None:
            b.append(_time(theirs))
    result = {"neuronet": _stats(a)}
    if b:
        result["torch"] = _stats(b)
        result["ratio"] = result["neuronet"]["median"] / result["torch"]["median"]
    return result


def _stats(xs: list) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def format_row(label: str, result: dict) -> str:
    ours = result["neuronet"]
    line = f"{label:<40} neuronet {ours['median']:8.3f} ms ({ours['min']:.3f}-{ours['max']:.3f})"
    if "torch" in result:
        t = result["torch"]
        line += f"   torch {t['median']:8.3f} ms ({t['min']:.3f}-{t['max']:.3f})"
        line += f"   ratio {result['ratio']:.2f}"
    else:
        line += "   torch: not installed"
    return line


def compare(label: str, ours, theirs=None, warmup: int = 5, repeats: int = 30) -> dict:
    result = measure(ours, theirs, warmup, repeats)
    print(format_row(label, result), flush=True)
    return result

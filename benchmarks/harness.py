"""Fair timing: each framework in a process of its own, processes alternating (A B A B ...).

Two measurement traps this module exists to avoid:

1. **Two frameworks in one process slow each other down.** Each keeps a thread pool that spins
   for a while after its work ends; alternating neuronet and PyTorch steps inside one process
   makes each step pay for the other's spinning (measured: PyTorch's GPT step 150 ms inside such
   a harness, 76-78 ms in a process of its own). So every measurement runs in a fresh child
   process holding one framework, and the children alternate, ``pairs`` times, so slow drifts
   of the machine hit both alike. The figure reported is the median of the per-process medians,
   with the spread (min-max) of those medians.
2. **The environment may pin OpenBLAS to an old kernel.** Some machines set
   ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (a workaround for old OpenBLAS builds); a user's
   NumPy would pick the processor's own kernel. ``child_env`` removes both for the children, and
   every child reports the BLAS kernel it actually runs (threadpoolctl), which the benchmarks
   print in their header.

A benchmark script is its own child: ``run_pairs(script, args)`` starts
``python script --child FRAMEWORK ...args``, and the child prints one JSON line (its result) as
the last line of its output. ``child_threads`` / ``torch_or_none`` set the thread counts in the
child before the libraries load.

Micro-benchmark scripts (``layers*.py``, ``overhead.py``, ``optimizers.py``) write rows with
``compare(label, ours, theirs)`` and end with ``main_in_pairs(main)``, which runs the script once
per framework in child processes and prints the combined rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PINNED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
FRAMEWORKS = ("neuronet", "torch")


def child_env(threads: int | None = None) -> dict:
    """The environment for a measuring child: the processor's own BLAS kernel, and ``threads``
    threads for every pool when given (the machine's default otherwise)."""
    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    for var in THREAD_VARS:
        env.pop(var, None)
        if threads is not None:
            env[var] = str(threads)
    return env


def threads_from_argv(argv=None) -> int | None:
    """``--threads N`` from the command line, exported for the BLAS pools; call before NumPy
    loads (OpenBLAS reads OPENBLAS_NUM_THREADS once, when it loads)."""
    argv = sys.argv if argv is None else argv
    if "--threads" not in argv:
        return None
    n = int(argv[argv.index("--threads") + 1])
    for var in THREAD_VARS:
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
    if threads:
        torch.set_num_threads(threads)
    return torch


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def blas_kernel() -> str:
    """The BLAS this process runs, e.g. 'openblas 0.3.31 SkylakeX x2 threads' (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (install threadpoolctl)"
    parts = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        arch = pool.get("architecture") or ""
        parts.append(
            f"{pool['internal_api']} {pool.get('version') or ''} {arch} "
            f"x{pool['num_threads']} threads".replace("  ", " ")
        )
    return "; ".join(parts) or "no BLAS pool found"


def torch_kernel(torch) -> str:
    """What PyTorch computes with: its BLAS and CPU capability (MKL/oneDNN, AVX-512)."""
    config = torch.__config__.show()
    blas = "mkl" if "BLAS_INFO=mkl" in config else "other BLAS"
    cap = next(
        (ln.split(":")[1].strip() for ln in config.splitlines() if "CPU capability" in ln), ""
    )
    return f"torch {torch.__version__} {blas} {cap} x{torch.get_num_threads()} threads"


def time_ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def time_calls(fn, warmup: int, repeats: int) -> list[float]:
    """Milliseconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    return [time_ms(fn) for _ in range(repeats)]


def stats(xs: list) -> dict:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``; ``ru_maxrss`` elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def emit(result: dict) -> None:
    """A child's last line: its result as JSON (what ``run_child`` reads)."""
    print(json.dumps(result), flush=True)


# ---- the command lines: a user's mistake is one line and exit code 2 --------------------------
class Parser(argparse.ArgumentParser):
    """``argparse`` with every usage error as one line on stderr and exit code 2 (as the
    ``neuronet`` command), and checks for the options the benchmarks share."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def names(self, option: str, value: str, known) -> list[str]:
        """The comma-separated names given to ``option``, each one of ``known``."""
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [v for v in names if v not in known]
        if unknown or not names:
            what = f"unknown name {unknown[0]!r}" if unknown else "no name given"
            self.error(f"{option}: {what}; choose from {', '.join(known)} (comma-separated)")
        return names

    def at_least(self, args, **minimums) -> None:
        """Each integer option ``dest=minimum`` of ``args`` is at least its minimum (or unset)."""
        for dest, minimum in minimums.items():
            value = getattr(args, dest)
            if value is not None and value < minimum:
                option = "--" + dest.replace("_", "-")
                self.error(f"{option} must be at least {minimum}, got {value}")


def run_child(script: str, framework: str, args: list, threads: int | None = None) -> dict:
    """Run ``python script --child framework *args`` and return its JSON result."""
    cmd = [sys.executable, script, "--child", framework, *map(str, args)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(threads))
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_pairs(
    script: str, args: list, pairs: int = 3, threads: int | None = None, frameworks=None
) -> dict:
    """Alternate child processes A B A B ... ``pairs`` times; ``{framework: [results]}``."""
    frameworks = frameworks or (FRAMEWORKS if torch_available() else ("neuronet",))
    out = {f: [] for f in frameworks}
    for _ in range(pairs):
        for framework in frameworks:
            out[framework].append(run_child(script, framework, args, threads))
    return out


def summarize(per_process: list[dict], key: str) -> dict:
    """Median and spread (min-max) of the per-process medians of ``key`` (a list of ms)."""
    medians = [statistics.median(r[key]) for r in per_process]
    return {"median": statistics.median(medians), "min": min(medians), "max": max(medians)}


def cell(s: dict | None, digits: int = 2) -> str:
    """'12.34 (12.01-12.80)': median of per-process medians and their spread."""
    if s is None:
        return "-"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


# ---- micro-benchmarks: compare() rows, each framework timed in processes of its own ---------
_CHILD = {"framework": None, "rows": {}}


def compare(label: str, ours, theirs=None, warmup: int = 5, repeats: int = 30) -> dict:
    """Time one row: neuronet's ``ours`` against PyTorch's ``theirs`` (None: neuronet only).

    Scripts call this freely; ``main_in_pairs`` runs the script once per framework in child
    processes, and in each child only that framework's callable is timed (the other is built but
    never run, so its thread pools stay idle). Outside ``main_in_pairs`` (a quick look, or a test)
    both are timed in this process, alternating, and the row says so.
    """
    framework = _CHILD["framework"]
    if framework is not None:
        fn = ours if framework == "neuronet" else theirs
        if fn is None:
            return {}
        times = time_calls(fn, warmup, repeats)
        _CHILD["rows"][label] = times
        return {framework: stats(times)}
    result = {"neuronet": stats(time_calls(ours, warmup, repeats))}
    if theirs is not None:
        result["torch"] = stats(time_calls(theirs, warmup, repeats))
        result["ratio"] = result["neuronet"]["median"] / result["torch"]["median"]
    print(format_row(label + " [one process]", result), flush=True)
    return result


def format_row(label: str, result: dict) -> str:
    line = f"{label:<44} neuronet {cell(result.get('neuronet'), 3):>26} ms"
    if "torch" in result:
        line += f"   torch {cell(result['torch'], 3):>26} ms   ratio {result['ratio']:.2f}"
    return line


def main_in_pairs(main, pairs: int = 3) -> None:
    """The ``__main__`` of a micro-benchmark script: as a child (``--child FRAMEWORK``), run
    ``main()`` timing that framework only and emit the rows; as the parent, start the children
    (alternating, ``pairs`` per framework, the script's own arguments passed on) and print each
    row's median of per-process medians, its spread and the ratio."""
    argv = sys.argv[1:]
    if "--child" in argv:
        i = argv.index("--child")
        _CHILD["framework"] = argv[i + 1]
        sys.argv = [sys.argv[0], *argv[:i], *argv[i + 2 :]]
        main()
        emit(_CHILD["rows"])
        return
    script = str(Path(sys.argv[0]).resolve())
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else None
    runs = run_pairs(script, argv, pairs, threads=None)
    kernel_note = f"threads: {threads or 'default'}; {pairs} processes per framework"
    print(f"{Path(script).name}: each framework in processes of its own ({kernel_note})")
    labels = list(dict.fromkeys(label for r in runs["neuronet"] for label in r))
    for label in labels:
        result = {}
        for framework, results in runs.items():
            if all(label in r for r in results):
                result[framework] = summarize(results, label)
        if "torch" in result:
            result["ratio"] = result["neuronet"]["median"] / result["torch"]["median"]
        print(format_row(label, result), flush=True)

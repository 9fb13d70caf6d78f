"""Running `neuronet` as a user does: a subprocess of this Python, output captured."""

from __future__ import annotations

import subprocess
import sys


def neuronet(*args, cwd=None, check=False, timeout=300):
    """``python -m neuronet ARGS`` (arguments made strings); with ``check``, a non-zero exit
    fails the test with the command's output."""
    proc = subprocess.run(
        [sys.executable, "-m", "neuronet", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc

"""Running `neuronet` as a user does (a subprocess), and the files a user would bring."""

from __future__ import annotations

import gzip

import numpy as np

from support import cli


def neuronet(*args, cwd=None, check=True, timeout=300):
    """``support.cli.neuronet``, failing on a non-zero exit unless ``check=False``."""
    return cli.neuronet(*args, cwd=cwd, check=check, timeout=timeout)


def digits_test_rows() -> np.ndarray:
    """The bundled digits test split as the data file holds it: 64 pixels (0..16), label."""
    from neuronet.data.bundled import DIGITS_FILE, digits_split_indices

    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    return table[digits_split_indices()[1]]


def write_rows(path, rows, header=None) -> None:
    lines = [",".join(header)] if header else []
    lines += [",".join(f"{v:g}" if not isinstance(v, str) else v for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def read_csv(path_or_text) -> list:
    import csv
    import io

    text = path_or_text if isinstance(path_or_text, str) else path_or_text.read_text()
    return list(csv.reader(io.StringIO(text)))


def one_line_error(proc, message: str) -> None:
    """A user's mistake: exit code 2, one line on stderr naming ``message``, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr

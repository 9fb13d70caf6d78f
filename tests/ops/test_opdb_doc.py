"""docs/ops.md's table lists every public op (so the page cannot fall behind the code)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import neuronet.functional as F

DOC = Path(__file__).parents[2] / "docs" / "ops.md"


def test_every_public_op_is_in_the_docs_table():
    text = DOC.read_text()
    table = text[text.index("## Every op and its status") : text.index("## PyTorch's own samples")]
    listed = set(re.findall(r"`([a-z_0-9]+)`", table))
    public = {
        name
        for name in dir(F)
        if not name.startswith("_")
        and callable(getattr(F, name))
        and getattr(getattr(F, name), "__module__", "").startswith("neuronet.ops")
    }
    missing = sorted(public - listed)
    assert not missing, f"add these ops to the table in docs/ops.md: {missing}"


def test_every_op_is_listed_in_the_row_of_the_file_that_exports_it():
    """The file column stays true when ops move between files (a facade such as
    ``ops/recurrent.py``, whose ``__all__`` re-exports them, counts as their file)."""
    text = DOC.read_text()
    table = text[text.index("## Every op and its status") : text.index("## PyTorch's own samples")]
    rows = {}
    for line in re.finditer(r"^\| `ops/([a-z_0-9]+)\.py` \| (.*) \|$", table, re.M):
        for name in re.findall(r"`([a-z_0-9]+)`", line.group(2)):
            rows.setdefault(name, []).append(line.group(1))
    wrong = {}
    for name, files in sorted(rows.items()):
        module = importlib.import_module(f"neuronet.ops.{files[0]}")
        if (
            len(files) > 1
            or name not in module.__all__
            or getattr(F, name, None) is not getattr(module, name)
        ):
            wrong[name] = files
    assert not wrong, f"docs/ops.md lists these ops in the wrong file's row (or twice): {wrong}"

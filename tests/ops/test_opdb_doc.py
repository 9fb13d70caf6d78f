"""docs/ops.md's table lists every public op (so the page cannot fall behind the code)."""

from __future__ import annotations

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

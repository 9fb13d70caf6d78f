"""The numba kernel for embedding's backward (see ``ops/embedding.py`` for the reference).

Compiled on first use and cached on disk (``jit.py``); imported by the code that calls it.
"""

from __future__ import annotations

from neuronet.ops.fast.jit import kernel


@kernel()
def scatter_add_rows(out, index, rows):
    """out[index[i]] += rows[i] for every i (duplicates accumulate), in index order."""
    n, d = rows.shape
    for i in range(n):
        r = index[i]
        for j in range(d):
            out[r, j] += rows[i, j]
